/** Edit distance (insertions, deletions, substitutions) between two words. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The known word closest to `word`: one it starts (`back` → backup), else the fewest edits,
 * if those change at most half of it (`prune` → run, `stauts` → status; `xyz` → none).
 */
export function nearest(word: string, known: readonly string[]): string | undefined {
  const prefixed = known.find((candidate) => word.length >= 2 && candidate.startsWith(word));
  if (prefixed) return prefixed;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(word, candidate);
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  return best && best.distance <= Math.ceil(word.length / 2) ? best.candidate : undefined;
}
