/** What a failed rclone run means to an export: the one place rclone's exit codes and stderr are read. */
export type RcloneFailure =
  | { kind: 'missing' } // no such file or directory
  | { kind: 'unreachable'; reason: string } // config, remote or credentials: nothing works until fixed
  | { kind: 'failed'; reason: string };

// rclone's documented exit codes: 3 directory not found, 4 file not found.
const NOT_FOUND_EXIT_CODES = new Set([3, 4]);

/** The last line rclone wrote to stderr, without its `2026/12/03 15:12:20 ` timestamp and level. */
export function lastRcloneMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return (lines.at(-1) ?? '').replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (?:[A-Z]+ *: )?/, '');
}

/** Pure: classifies a finished rclone run that exited non-zero. */
export function classifyRcloneFailure(exitCode: number, stderr: string): RcloneFailure {
  const message = lastRcloneMessage(stderr);
  if (NOT_FOUND_EXIT_CODES.has(exitCode) || /is a directory or doesn't exist|object not found|file not found/.test(message)) return { kind: 'missing' };
  // `Failed to create file system for "r:": ...`: an unknown remote, no config, no connection.
  const fileSystem = /Failed to create file system for "[^"]*": (.*)$/.exec(message);
  if (fileSystem) return { kind: 'unreachable', reason: fileSystem[1] ?? message };
  if (/connection refused|no route to host|i\/o timeout|couldn't connect|no such host|AccessDenied|SignatureDoesNotMatch|InvalidAccessKeyId/.test(message)) {
    return { kind: 'unreachable', reason: message };
  }
  return { kind: 'failed', reason: message || `rclone exited ${exitCode}` };
}
