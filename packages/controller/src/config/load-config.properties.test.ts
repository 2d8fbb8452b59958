import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, onTestFinished, test } from 'vitest';
import { stringify } from 'yaml';
import { FleetError } from '@zfs-fleet/protocol';
import { CONTROL_CHARACTERS, hostileString } from '@zfs-fleet/protocol/testing';
import { exitCodeFor } from '../cli/command.ts';
import { loadConfig, parseConfig } from './load-config.ts';

/** A config that sets every string field there is, each to a valid value. */
function baseConfig(): Record<string, unknown> {
  return {
    ssh: { user: 'root', identityFile: './keys/fleet', knownHosts: './known_hosts', handshakeTimeout: '30s' },
    agent: { command: '/opt/zfs-fleet/bin/fleet-agent', runtime: '/usr/bin/node' },
    wire: { compression: 'none', cipher: 'aes128-gcm@openssh.com', buffer: '128M' },
    snapshotPrefix: 'fleet',
    stateDir: './state',
    metrics: { textfile: './fleet.prom' },
    defaults: { hooks: { preSnapshot: ['sync'], postSnapshot: ['true'], timeout: '5m' }, keep: { daily: 3, maxAge: '30d' }, lockWait: '10m', prune: { include: '^autosnap_' } },
    hosts: {
      src1: {
        address: '10.77.0.11',
        user: 'root',
        agent: { command: '/opt/zfs-fleet/bin/fleet-agent' },
        backups: [{ dataset: 'tank/Media', to: ['backup1'], exclude: ['scratch'], schedule: '0 3 * * *', rpo: '26h', lockWait: '1m', sequence: ['preSnapshot', 'snapshot', 'postSnapshot', 'replicate'] }],
      },
      backup1: { address: '10.77.0.21', receive: { root: 'backup/fleet' } },
    },
  };
}

/**
 * What each string field must refuse. `plain`: a name, word or number that reaches an argv, a
 * dataset or a message; nothing outside printable ASCII, nothing that starts with "-".
 * `text`: a path or a pattern, used inside the controller only; no control characters.
 * `shell`: a hook, a shell script by design (newlines and `;` are its business); no NUL.
 */
type Policy = 'plain' | 'text' | 'shell';
const FIELDS: Array<[string, Policy]> = [
  ['ssh.user', 'plain'],
  ['ssh.identityFile', 'text'],
  ['ssh.knownHosts', 'text'],
  ['ssh.handshakeTimeout', 'plain'],
  ['agent.command', 'plain'],
  ['agent.runtime', 'plain'],
  ['wire.compression', 'plain'],
  ['wire.cipher', 'plain'],
  ['wire.buffer', 'plain'],
  ['snapshotPrefix', 'plain'],
  ['stateDir', 'text'],
  ['metrics.textfile', 'text'],
  ['defaults.hooks.preSnapshot.0', 'shell'],
  ['defaults.hooks.timeout', 'plain'],
  ['defaults.keep.maxAge', 'plain'],
  ['defaults.lockWait', 'plain'],
  ['defaults.prune.include', 'text'],
  ['hosts.src1.address', 'plain'],
  ['hosts.src1.user', 'plain'],
  ['hosts.src1.agent.command', 'plain'],
  ['hosts.src1.backups.0.dataset', 'plain'],
  ['hosts.src1.backups.0.to.0', 'plain'],
  ['hosts.src1.backups.0.exclude.0', 'text'],
  ['hosts.src1.backups.0.schedule', 'text'],
  ['hosts.src1.backups.0.rpo', 'plain'],
  ['hosts.src1.backups.0.lockWait', 'plain'],
  ['hosts.src1.backups.0.sequence.0', 'plain'],
  ['hosts.backup1.receive.root', 'plain'],
];

const mustRefuse: Record<Policy, (value: string) => boolean> = {
  plain: (value) => !/^[\u0020-\u007e]*$/.test(value) || value.startsWith('-') || value === '',
  text: (value) => CONTROL_CHARACTERS.test(value) || value === '',
  shell: (value) => value.includes('\u0000') || value === '',
};

function withValue(keyPath: string, value: string): Record<string, unknown> {
  const config = baseConfig();
  const keys = keyPath.split('.');
  let node = config as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys.at(-1)!] = value;
  return config;
}

const startsWithKey = (keyPath: string) => new RegExp(`^${keyPath.replaceAll('.', '\\.')}: `);

/** Parses; checks what holds for every outcome; returns the error lines. */
function parseChecked(config: unknown): string[] {
  const result = parseConfig(stringify(config));
  expect((result.config === undefined) !== (result.errors === undefined)).toBe(true);
  for (const line of result.errors ?? []) expect(line).not.toMatch(CONTROL_CHARACTERS);
  return result.errors ?? [];
}

describe('parseConfig on hostile strings', { timeout: 30_000 }, () => {
  test('the base config is valid, so every error below comes from the value put in', () => {
    expect(parseChecked(baseConfig())).toEqual([]);
  });

  test.each(FIELDS)('%s: never throws, and a value it must refuse is an error naming that key path', (keyPath, policy) => {
    fc.assert(
      fc.property(hostileString, (value) => {
        const errors = parseChecked(withValue(keyPath, value));
        if (mustRefuse[policy](value)) expect(errors).toContainEqual(expect.stringMatching(startsWithKey(keyPath)));
      }),
      { numRuns: 100 },
    );
  });

  test('a hostile host name is an error naming it under hosts, escaped', () => {
    fc.assert(
      fc.property(hostileString, (name) => {
        fc.pre(!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name));
        const config = baseConfig();
        const hosts = config['hosts'] as Record<string, unknown>;
        // Defined, not assigned: `hosts["__proto__"] = …` would set the prototype instead.
        Object.defineProperty(hosts, name, { value: { address: '10.0.0.1' }, enumerable: true, writable: true, configurable: true });
        const errors = parseChecked(config);
        expect(errors).toContainEqual(expect.stringMatching(/^hosts\./));
      }),
      { numRuns: 300 },
    );
  });

  test('raw bytes that are not YAML are a config error naming a line, never a throw', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const result = parseConfig(`ssh: { identityFile: k, knownHosts: h }\nhosts:\n  ${text}`);
        for (const line of result.errors ?? []) expect(line).not.toMatch(CONTROL_CHARACTERS);
      }),
      { numRuns: 300 },
    );
  });
});

describe('loadConfig on hostile strings', { timeout: 30_000 }, () => {
  test('a config with a hostile value fails with CONFIG_INVALID, which the CLI exits 2 for, and lists the key path', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-config-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'fleet.yaml');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIELDS.filter(([, policy]) => policy === 'plain')), hostileString, async ([keyPath], value) => {
        fc.pre(mustRefuse.plain(value));
        writeFileSync(file, stringify(withValue(keyPath, value)));
        const error = await loadConfig(file).then(
          () => expect.fail(`${keyPath}: ${JSON.stringify(value)} was accepted`),
          (thrown: unknown) => thrown,
        );
        expect(error).toBeInstanceOf(FleetError);
        expect((error as FleetError).code).toBe('CONFIG_INVALID');
        expect(exitCodeFor(error as FleetError)).toBe(2);
        expect((error as FleetError).details?.['errors']).toContainEqual(expect.stringMatching(startsWithKey(keyPath)));
      }),
      { numRuns: 60 },
    );
  });
});
