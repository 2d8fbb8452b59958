/** Quotes one word for a POSIX shell (ssh hands the remote side a single command string). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Splits a command line that {@link shellQuote} built (words, single quotes, `'\''`, stages
 * joined by `|`) back into its stages' words, without a shell. Anything a shell would treat
 * specially outside quotes (`$`, `;`, `&`, `"`, a backslash, redirections...) is not something
 * we built: it returns undefined, and the caller refuses the line.
 */
export function splitQuotedPipeline(text: string): string[][] | undefined {
  const stages: string[][] = [[]];
  let word: string | undefined;
  const endWord = () => {
    if (word !== undefined) stages.at(-1)!.push(word);
    word = undefined;
  };
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      endWord();
    } else if (c === '|') {
      endWord();
      stages.push([]);
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) return undefined;
      word = (word ?? '') + text.slice(i + 1, close);
      i = close;
    } else if (c === '\\' && text[i + 1] === "'" && word !== undefined) {
      // The `'\''` of a quoted quote: only ever between two quoted parts of one word.
      word += "'";
      i += 1;
    } else if (/[A-Za-z0-9@%+=:,./_-]/.test(c)) {
      word = (word ?? '') + c;
    } else {
      return undefined;
    }
  }
  endWord();
  return stages;
}
