import { describe, expect, test } from 'vitest';
import { classifyRcloneFailure, lastRcloneMessage } from './classify-rclone-failure.ts';

// stderr recorded from Debian 12's rclone 1.60.1 against `rclone serve sftp` and radosgw.
const at = (line: string) => `2026/12/03 15:12:15 ${line}\n`;

describe('classifyRcloneFailure', () => {
  test.each([
    ['lsjson --stat of a missing file', 3, at('ERROR : : error listing: directory not found') + at('Failed to lsjson with 2 errors: last error was: error in ListJSON: directory not found'), { kind: 'missing' }],
    ['cat of a missing file', 3, at('Failed to cat with 2 errors: last error was: directory not found'), { kind: 'missing' }],
    ['deletefile of a missing file (exit 1)', 1, at("ERROR : Attempt 1/3 failed with 1 errors and: lab:a/b/none.txt is a directory or doesn't exist") + at("Failed to deletefile: lab:a/b/none.txt is a directory or doesn't exist"), { kind: 'missing' }],
    [
      'an sftp server that does not answer',
      1,
      at('Failed to create file system for "lab:a": NewFs: couldn\'t connect SSH: dial tcp 127.0.0.1:7699: connect: connection refused'),
      { kind: 'unreachable', reason: "NewFs: couldn't connect SSH: dial tcp 127.0.0.1:7699: connect: connection refused" },
    ],
    ['a remote the config does not have', 1, at('Failed to create file system for "nosuch:a": didn\'t find section in config file'), { kind: 'unreachable', reason: "didn't find section in config file" }],
    [
      'a wrong S3 secret',
      1,
      at('ERROR : Attempt 1/3 failed with 1 errors and: SignatureDoesNotMatch: status code: 403, request id: tx0, host id: '),
      { kind: 'unreachable', reason: 'Attempt 1/3 failed with 1 errors and: SignatureDoesNotMatch: status code: 403, request id: tx0, host id:' },
    ],
    ['a full disk on the remote', 1, at('Failed to copy: sftp: "No space left on device" (SSH_FX_FAILURE)'), { kind: 'failed', reason: 'Failed to copy: sftp: "No space left on device" (SSH_FX_FAILURE)' }],
    ['no stderr at all', 2, '', { kind: 'failed', reason: 'rclone exited 2' }],
  ])('%s', (_title, exitCode, stderr, expected) => {
    expect(classifyRcloneFailure(exitCode, stderr)).toEqual(expected);
  });

  test('the message is the last line without timestamp and level', () => {
    expect(lastRcloneMessage(at('NOTICE: first') + at('ERROR : second') + '\n')).toBe('second');
  });
});
