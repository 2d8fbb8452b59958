import { describe, expect, test } from 'vitest';
import { explainAgeRecipient, resolveExportSettings } from '@zfs-fleet/protocol';
import { parseConfig } from './load-config.ts';

/** Made with age-keygen for this test: a real recipient and a secret that must never be echoed. */
const RECIPIENT = 'age16z43qssq3sp9z2jcl2a2ynk65spgmxstryzvkv3dk5q5eexgw9lqkasd6e';
const SECRET = 'AGE-SECRET-KEY-1K2XE9U0DSWQMJ609FSJDPAV2XZP2L6EFFFS6QUJDTRT02UWF2EUSNDTKJ9';

const config = (targets: string, exports: string, entry = '') => `
ssh: { user: root, identityFile: ./keys/fleet, knownHosts: ./known_hosts }
hosts:
  src1:
    address: 10.77.0.11
    backups:
      - dataset: tank/Media
        to: [backup1, nas]
${entry}
  backup1:
    address: 10.77.0.21
    receive: { root: backup/fleet }
targets:
${targets}
${exports}
`;
const nas = '  nas: { type: directory, path: /mnt/nas }';
const recipients = `exports: { encryption: { recipients: [${RECIPIENT}] } }`;

describe('targets: and exports: in the config', () => {
  test('an entry names hosts and targets alike; settings resolve top level, then target, then entry', () => {
    const { config: parsed, errors } = parseConfig(
      config('  nas: { type: directory, path: /mnt/nas, exports: { chunkSize: 64M, keep: { fulls: 2 } } }', `exports: { encryption: { recipients: [${RECIPIENT}] }, fullEvery: 3d }`, '        exports: { incremental: chained, chunkSize: 32M }'),
    );
    expect(errors).toBeUndefined();
    const entry = parsed!.hosts['src1']!.backups[0]!;
    expect(resolveExportSettings(parsed!.exports, parsed!.targets['nas']!.exports, entry.exports)).toEqual({ recipients: [RECIPIENT], fullEveryMs: 3 * 86_400_000, incremental: 'chained', chunkSizeBytes: 32 * 1024 ** 2, compression: 'zstd', keepFulls: 2 });
  });

  test('defaults: fullEvery 7d, differential, 128M chunks, zstd, no pruning', () => {
    expect(resolveExportSettings({ encryption: { recipients: [RECIPIENT] } })).toEqual({ recipients: [RECIPIENT], fullEveryMs: 7 * 86_400_000, incremental: 'differential', chunkSizeBytes: 128 * 1024 ** 2, compression: 'zstd', keepFulls: undefined });
  });

  test.each([
    ['an unknown name in to:', config(nas, recipients).replace('[backup1, nas]', '[backup1, offsite]'), 'hosts.src1.backups.0.to.1: "offsite" is neither a host nor a target in this config'],
    ['a target without recipients anywhere', config(nas, ''), 'hosts.src1.backups.0.to.1: target "nas" needs exports.encryption.recipients'],
    ['an ssh key as recipient', config(nas, 'exports: { encryption: { recipients: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA"] } }'), 'exports.encryption.recipients.0: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA" is an ssh public key'],
    ['a recipient with a typo', config(nas, `exports: { encryption: { recipients: [${RECIPIENT.replace('6e', '6f')}] } }`), 'its checksum is wrong'],
    ['a relative directory', config('  nas: { type: directory, path: mnt/nas }', recipients), 'targets.nas.path: an absolute path'],
    ['an unknown target type', config('  nas: { type: ftp, path: /x }', recipients), 'targets.nas.type'],
    ['an s3 target without credentialsFile', config('  nas: { type: s3, endpoint: "https://s3.example.org", bucket: backups }', recipients), 'targets.nas.credentialsFile'],
    ['an s3 endpoint that is not a URL', config('  nas: { type: s3, endpoint: "s3.example.org", bucket: backups, credentialsFile: /etc/s3.env }', recipients), 'targets.nas.endpoint'],
    ['an rclone remote without a colon', config('  nas: { type: rclone, remote: "b2-bucket" }', recipients), 'targets.nas.remote: an rclone remote'],
    ['a chunk size below 1M', config(nas, `exports: { encryption: { recipients: [${RECIPIENT}] }, chunkSize: 64K }`), 'exports.chunkSize: between 1M and 5G'],
    ['a target named like a host', config(`${nas}\n  backup1: { type: directory, path: /mnt/b }`, recipients), 'targets.backup1: "backup1" is also a host'],
  ])('%s is a config error naming its key path', (_name, text, expected) => {
    const { errors } = parseConfig(text);
    expect(errors?.join('\n')).toContain(expected);
  });

  test('a secret key given as recipient is refused without being echoed', () => {
    const { errors } = parseConfig(config(nas, `exports: { encryption: { recipients: [${SECRET}] } }`));
    const text = errors?.join('\n') ?? '';
    expect(text).toContain('exports.encryption.recipients.0: is an age identity (a private key)');
    expect(text).not.toContain(SECRET);
  });

  test('explainAgeRecipient accepts real recipients only', () => {
    expect(explainAgeRecipient(RECIPIENT)).toBeUndefined();
    expect(explainAgeRecipient(RECIPIENT.toUpperCase())).toContain('lower case');
    expect(explainAgeRecipient('age1short')).toContain('58 characters');
    expect(explainAgeRecipient(`${RECIPIENT.slice(0, -1)}b`)).toContain('a character outside the Bech32 alphabet');
  });
});
