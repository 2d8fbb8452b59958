import { expect, test } from 'vitest';
import { buildPeerSshArgs, shellQuote } from './ssh-command.ts';

test('plain words pass unquoted and anything else is single-quoted', () => {
  expect(shellQuote('backup/fleet/src1')).toBe('backup/fleet/src1');
  expect(shellQuote("it's; rm -rf /")).toBe(`'it'\\''s; rm -rf /'`);
});

test('the peer command is one quoted string after "--", with strict host keys and no prompts', () => {
  const argv = buildPeerSshArgs({ name: 'b', address: '10.0.0.2', port: 22, user: 'root' }, { stallTimeout: 300_000, compression: 'none', cipher: 'aes128-gcm@openssh.com' }, [
    ['zstd', '-d', '-c'],
    ['zfs', 'recv', '-d', 'backup/x'],
  ]);
  expect(argv).toContain('StrictHostKeyChecking=yes');
  expect(argv).toContain('BatchMode=yes');
  expect(argv.slice(argv.indexOf('-c'), argv.indexOf('-c') + 2)).toEqual(['-c', 'aes128-gcm@openssh.com']);
  expect(argv.slice(-2)).toEqual(['--', 'zstd -d -c | zfs recv -d backup/x']);
});
