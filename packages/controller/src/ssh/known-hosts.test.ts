import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { checkHostKey, fingerprint, knownHostName, parseKnownHosts } from './known-hosts.ts';

// An ed25519 public key blob in SSH wire format: string "ssh-ed25519", string key.
function ed25519Blob(): Buffer {
  const der = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
  const raw = der.subarray(der.length - 32);
  const type = Buffer.from('ssh-ed25519');
  const header = Buffer.alloc(4);
  header.writeUInt32BE(type.length);
  const keyLength = Buffer.alloc(4);
  keyLength.writeUInt32BE(raw.length);
  return Buffer.concat([header, type, keyLength, raw]);
}

describe('checkHostKey', () => {
  const key = ed25519Blob();
  const other = ed25519Blob();
  const line = (hosts: string, blob: Buffer) => `${hosts} ssh-ed25519 ${blob.toString('base64')}`;

  test('a listed key is known, by plain or bracketed name', () => {
    const entries = parseKnownHosts(`# comment\n${line('10.0.0.1,web', key)}\n${line('[10.0.0.2]:2222', key)}\n`);
    expect(checkHostKey(entries, '10.0.0.1', key)).toEqual({ kind: 'known' });
    expect(checkHostKey(entries, knownHostName('10.0.0.2', 2222), key)).toEqual({ kind: 'known' });
  });

  test('a hashed entry matches its host', () => {
    const salt = Buffer.from('0123456789abcdef0123');
    const hash = createHmac('sha1', salt).update('10.0.0.9').digest('base64');
    const entries = parseKnownHosts(line(`|1|${salt.toString('base64')}|${hash}`, key));
    expect(checkHostKey(entries, '10.0.0.9', key)).toEqual({ kind: 'known' });
    expect(checkHostKey(entries, '10.0.0.8', key).kind).toBe('unknown');
  });

  test('an unlisted host is unknown with the fingerprint seen', () => {
    expect(checkHostKey(parseKnownHosts(''), '10.0.0.1', key)).toEqual({ kind: 'unknown', seen: fingerprint(key) });
  });

  test('a different key of the same type is a changed key, naming both fingerprints', () => {
    const verdict = checkHostKey(parseKnownHosts(line('10.0.0.1', other)), '10.0.0.1', key);
    expect(verdict).toEqual({ kind: 'changed', seen: fingerprint(key), expected: [fingerprint(other)] });
  });
});
