import { describe, expect, test } from 'vitest';
import { entrySettings, SEQUENCE_STEPS } from '@zfs-fleet/protocol';
import { parseConfig } from './load-config.ts';

const base = (entry: string, top = '') => `
ssh: { user: root, identityFile: ./keys/fleet, knownHosts: ./known_hosts }
${top}
hosts:
  src1:
    address: 10.77.0.11
    backups:
      - dataset: tank/Media
        to: [backup1]
${entry
  .split('\n')
  .map((line) => `        ${line}`)
  .join('\n')}
  backup1:
    address: 10.77.0.21
    receive: { root: backup/fleet }
`;

describe('entry settings: sequence, hooks, keep, peerKeep, lockWait, prune', () => {
  test('an entry without them runs every step, keeps everything and refuses a busy lock at once', () => {
    const { config } = parseConfig(base(''));
    const settings = entrySettings(config!, config!.hosts['src1']!.backups[0]!);
    expect(settings).toEqual({ sequence: [...SEQUENCE_STEPS], hooks: undefined, keep: undefined, peerKeep: undefined, lockWaitMs: 0, prune: {} });
  });

  test('keep: reads as counts plus maxAge in milliseconds, and peerKeep defaults to it', () => {
    const { config, errors } = parseConfig(base('keep: { hourly: 24, daily: 30, weekly: 8, monthly: 12, yearly: 2, maxAge: 30d }\nlockWait: 10m'));
    expect(errors).toBeUndefined();
    const settings = entrySettings(config!, config!.hosts['src1']!.backups[0]!);
    expect(settings.keep).toEqual({ hourly: 24, daily: 30, weekly: 8, monthly: 12, yearly: 2, maxAgeMs: 30 * 86_400_000 });
    expect(settings.peerKeep).toEqual(settings.keep);
    expect(settings.lockWaitMs).toBe(600_000);
  });

  test('defaults: fill what an entry leaves out; the entry wins where it sets something', () => {
    const { config, errors } = parseConfig(base('peerKeep: { monthly: 6 }', 'defaults: { keep: { daily: 7 }, hooks: { preSnapshot: ["sync"], timeout: 30s }, prune: { include: "^autosnap_" } }'));
    expect(errors).toBeUndefined();
    const settings = entrySettings(config!, config!.hosts['src1']!.backups[0]!);
    expect(settings).toMatchObject({ keep: { daily: 7 }, peerKeep: { monthly: 6 }, hooks: { preSnapshot: ['sync'], postSnapshot: [] }, prune: { include: '^autosnap_' } });
    expect(settings.hooks?.timeout).toBe(30_000);
  });

  test('a sequence without replicate is a valid subset', () => {
    const { errors } = parseConfig(base('keep: { daily: 7 }\nsequence: [lock, snapshot, pruneSnapshots, unlock]'));
    expect(errors).toBeUndefined();
  });

  test.each([
    ['an unknown step', 'sequence: [lock, snapshot, upload, unlock]', 'hosts.src1.backups.0.sequence.2: Invalid option'],
    ['a step out of order', 'sequence: [lock, replicate, snapshot, unlock]', 'hosts.src1.backups.0.sequence.2: "snapshot" cannot come after "replicate"'],
    ['a step twice', 'sequence: [snapshot, snapshot]', 'hosts.src1.backups.0.sequence.1: "snapshot" appears twice'],
    ['lock without unlock', 'sequence: [lock, snapshot]', 'hosts.src1.backups.0.sequence: has "lock" without "unlock"'],
    ['pruneSnapshots without a policy', 'sequence: [snapshot, pruneSnapshots]', 'hosts.src1.backups.0.sequence: has "pruneSnapshots" but the entry has no keep:'],
    ['hooks whose step is left out', 'hooks: { preSnapshot: ["sync"] }\nsequence: [snapshot, replicate]', 'hosts.src1.backups.0.sequence: has no "preSnapshot" step'],
    ['an empty keep', 'keep: {}', 'hosts.src1.backups.0.keep: at least one of hourly'],
    ['a negative count', 'keep: { daily: -1 }', 'hosts.src1.backups.0.keep.daily:'],
    ['a maxAge without a unit', 'keep: { maxAge: 30 }', 'hosts.src1.backups.0.keep.maxAge:'],
    ['an unknown period', 'keep: { fortnightly: 2 }', 'hosts.src1.backups.0.keep: unknown key "fortnightly"'],
    ['an include that is no regular expression', 'prune: { include: "(" }', 'hosts.src1.backups.0.prune.include: a JavaScript regular expression'],
    ['a hook timeout without a unit', 'hooks: { timeout: 5 }', 'hosts.src1.backups.0.hooks.timeout:'],
  ])('%s is a config error naming its key path', (_name, entry, expected) => {
    const { errors } = parseConfig(base(entry));
    expect(errors?.join('\n')).toContain(expected);
  });
});
