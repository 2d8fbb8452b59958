import { describe, expect, it } from 'vitest';
import { parseReceiveCommand, receiveCommandStages, type ReceiveCommand } from './receive-command.ts';
import { shellQuote } from './ssh-command.ts';

const root = 'backup/fleet/src1';
const parse = (command: string, allowRollback = false) => parseReceiveCommand(command, { root, allowRollback });
/** The words ssh hands the peer, as buildPeerSshArgs joins them. */
const words = (command: ReceiveCommand) =>
  receiveCommandStages(command)
    .map((stage) => stage.map(shellQuote).join(' '))
    .join(' | ');

describe('parseReceiveCommand', () => {
  it('accepts a receive into the own subtree, with or without a decompressor', () => {
    expect(parse('zfs recv -d -u backup/fleet/src1/tank')).toEqual({ recv: { discardPool: true, noMount: true, target: 'backup/fleet/src1/tank' } });
    expect(parse('zstd -d -c -q | zfs recv -d backup/fleet/src1/tank')).toEqual({ decompress: 'zstd', recv: { discardPool: true, target: 'backup/fleet/src1/tank' } });
  });

  it.each([
    ['a shell', 'bash -i', /only "zfs recv" is allowed/],
    ['a destroy', 'zfs destroy -r backup/fleet/src1/tank', /only "zfs recv" is allowed/],
    ["reading another host's backup", 'zfs send backup/fleet/src2/tank/Media@x', /only "zfs recv" is allowed/],
    ['a receive outside the subtree', 'zfs recv -d backup/fleet/src2', /outside backup\/fleet\/src1/],
    ['a look-alike prefix', 'zfs recv -d backup/fleet/src1x', /outside/],
    ['a rollback without permission', 'zfs recv -F -d backup/fleet/src1/tank', /may not roll back/],
    ['an extra stage', 'cat /etc/shadow | zfs recv -d backup/fleet/src1', /not an allowed decompressor/],
    ['three stages', 'zstd -d -c -q | cat | zfs recv -d backup/fleet/src1', /is not a receive/],
    ['shell syntax in the target', 'zfs recv -d backup/fleet/src1;reboot', /is not a plain command line/],
    ['a dataset name that zfs refuses', "zfs recv -d 'backup/fleet/src1/a%b'", /is not a dataset name/],
    ['an unknown flag', 'zfs recv -o mountpoint=/etc -d backup/fleet/src1', /flag "-o" is not allowed/],
  ])('refuses %s', (_what, command, message) => {
    expect(() => parse(command)).toThrow(message);
  });

  it('takes a target whose name holds a space, quoted as the source quotes it', () => {
    expect(parse(words({ recv: { target: 'backup/fleet/src1/tank/with space', noMount: true } })).recv).toEqual({ noMount: true, target: 'backup/fleet/src1/tank/with space' });
  });

  it('allows -F only when the key was set up for it', () => {
    expect(parse('zfs recv -d -F backup/fleet/src1/tank', true).recv).toEqual({ discardPool: true, force: true, target: 'backup/fleet/src1/tank' });
  });
});

describe("a source's receive command and the peer's restricted receive agree", () => {
  const target = 'backup/fleet/src1/tank';
  const commands: ReceiveCommand[] = [];
  for (const decompress of [undefined, 'zstd', 'lz4'] as const) {
    for (const flags of [{}, { discardPool: true, noMount: true }, { discardPool: true, noMount: true, resumable: true, force: true }]) {
      commands.push({ ...(decompress ? { decompress } : {}), recv: { target, ...flags } });
    }
  }
  it.each(commands.map((command) => [words(command), command] as const))('"%s" is accepted as sent', (_words, command) => {
    expect(parse(words(command), true)).toEqual(command);
  });
});
