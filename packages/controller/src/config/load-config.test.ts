import { describe, expect, test } from 'vitest';
import { parseConfig } from './load-config.ts';

const valid = `
ssh: { user: root, identityFile: ./keys/fleet, knownHosts: ./known_hosts }
hosts:
  src1:
    address: 10.77.0.11
    backups:
      - dataset: tank/Media
        recursive: true
        to: [backup1]
  backup1:
    address: 10.77.0.21
    receive: { root: backup/fleet }
`;

describe('parseConfig', () => {
  test('a valid config parses with defaults filled in', () => {
    const { config, errors } = parseConfig(valid);
    expect(errors).toBeUndefined();
    expect(config?.hosts['src1']?.backups[0]).toMatchObject({ dataset: 'tank/Media', recursive: true, mirrorDeletions: false, exclude: [] });
    expect(config?.agent.command).toBe('/opt/zfs-fleet/bin/fleet-agent');
  });

  test.each([
    ['an unknown key', valid.replace('recursive: true', 'recursive: true\n        recursiv: true'), 'hosts.src1.backups.0: unknown key "recursiv"'],
    ['a dataset with ".."', valid.replace('tank/Media', 'tank/../x'), 'hosts.src1.backups.0.dataset: dataset name "tank/../x" has the component ".."'],
    ['a dataset with shell syntax', valid.replace('tank/Media', '"tank;rm"'), 'hosts.src1.backups.0.dataset: dataset name "tank;rm" has pool name "tank;rm"'],
    ['a peer that is not a host', valid.replace('[backup1]', '[backup9]'), 'hosts.src1.backups.0.to.0: "backup9" is neither a host nor a target in this config'],
    ['a peer without receive', valid.replace('to: [backup1]', 'to: [src1]'), 'hosts.src1.backups.0.to.0: host "src1" has no "receive:" section'],
    ['a missing ssh section', valid.replace(/ssh:.*\n/, ''), 'ssh: '],
    ['a handshake timeout without a unit', valid.replace('knownHosts: ./known_hosts', 'knownHosts: ./known_hosts, handshakeTimeout: 30'), 'ssh.handshakeTimeout: '],
    ['a handshake timeout of 0s', valid.replace('knownHosts: ./known_hosts', 'knownHosts: ./known_hosts, handshakeTimeout: 0s'), 'ssh.handshakeTimeout: longer than 0s'],
  ])('%s is reported with its key path', (_name, text, expected) => {
    const { errors } = parseConfig(text);
    expect(errors?.join('\n')).toContain(expected);
  });

  test('the agent has 30 s to answer the handshake unless ssh.handshakeTimeout says otherwise', () => {
    expect(parseConfig(valid).config?.ssh.handshakeTimeout).toBe(30_000);
    expect(parseConfig(valid.replace('knownHosts: ./known_hosts', 'knownHosts: ./known_hosts, handshakeTimeout: 2m')).config?.ssh.handshakeTimeout).toBe(120_000);
  });

  test('a key named __proto__ is an error naming it, not a section silently dropped', () => {
    const { errors } = parseConfig(`${valid}  __proto__:\n    address: 10.77.0.31\n    junk: 1\n`);
    expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(/^hosts\.__proto__: /)]));
  });

  test('YAML syntax errors name the line', () => {
    const { errors } = parseConfig('hosts:\n  a: [\n');
    expect(errors?.[0]).toMatch(/^line \d+:/);
  });
});
