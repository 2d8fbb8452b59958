import { spawn } from 'node:child_process';

/**
 * @typedef {{ code: number, stdout: string, stderr: string, ms: number }} ExecResult
 * @typedef {{ input?: string, env?: NodeJS.ProcessEnv, reject?: boolean, cwd?: string, echo?: boolean }} ExecOptions
 */

/**
 * Runs a command to completion and collects its output.
 * @param {string} command
 * @param {string[]} args
 * @param {ExecOptions} [options]
 * @returns {Promise<ExecResult>}
 */
export function run(command, args, options = {}) {
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text) => {
      stderr += text;
      if (options.echo) process.stderr.write(text);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const result = { code: code ?? (signal ? 128 : -1), stdout, stderr, ms: performance.now() - startedAt };
      if (result.code !== 0 && options.reject !== false) {
        reject(new Error(`'${[command, ...args].join(' ')}' exited ${result.code}: ${stderr.trim().slice(-2000) || '(no stderr)'}`));
      } else resolve(result);
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // a command that does not read its input
      child.stdin.end(options.input);
    }
  });
}

/** Quotes one word for a POSIX shell. */
export function shq(word) {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(word) ? word : `'${String(word).replaceAll("'", `'\\''`)}'`;
}
