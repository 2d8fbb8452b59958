import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { checkHostKey, fingerprint, keyTypeOf, knownHostName, knownHostsLine, parseKnownHosts, trustHostKey } from './known-hosts.ts';

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

describe('trustHostKey', () => {
  const key = ed25519Blob();
  const other = ed25519Blob();
  const line = (hosts: string, blob: Buffer) => `${hosts} ssh-ed25519 ${blob.toString('base64')}`;

  test('the line written is what ssh-keyscan prints, bracketed on a non-22 port', () => {
    expect(knownHostsLine('10.0.0.1', key)).toBe(`10.0.0.1 ssh-ed25519 ${key.toString('base64')}`);
    expect(knownHostsLine(knownHostName('10.0.0.1', 2222), key)).toBe(`[10.0.0.1]:2222 ssh-ed25519 ${key.toString('base64')}`);
  });

  test('an unknown host is appended, keeping the file as it was', () => {
    expect(trustHostKey('', '10.0.0.1', key)).toEqual({ kind: 'added', text: `${line('10.0.0.1', key)}\n`, replaced: [] });
    const existing = `# mine\n${line('10.0.0.2', other)}`;
    expect(trustHostKey(existing, '10.0.0.1', key)).toEqual({ kind: 'added', text: `${existing}\n${line('10.0.0.1', key)}\n`, replaced: [] });
  });

  test('a host already listed with this key changes nothing', () => {
    expect(trustHostKey(line('web,10.0.0.1', key), '10.0.0.1', key)).toEqual({ kind: 'already-known' });
  });

  test('a host listed with another key is refused with both fingerprints', () => {
    expect(trustHostKey(line('10.0.0.1', other), '10.0.0.1', key)).toEqual({ kind: 'changed', seen: fingerprint(key), expected: [fingerprint(other)] });
  });

  test('--replace drops the old key for this name only and adds the new one', () => {
    const text = `${line('10.0.0.1', other)}\n${line('web,10.0.0.1', other)}\n${line('10.0.0.3', other)}\n`;
    const edit = trustHostKey(text, '10.0.0.1', key, { replace: true });
    expect(edit).toEqual({
      kind: 'replaced',
      text: `${line('web', other)}\n${line('10.0.0.3', other)}\n${line('10.0.0.1', key)}\n`,
      replaced: [fingerprint(other), fingerprint(other)],
    });
  });
});

describe('fingerprint', () => {
  test('is SHA256 in unpadded base64, as ssh-keygen -lf prints it', () => {
    // Recorded: `ssh-keygen -lf` of a .pub file holding this key.
    const blob = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ', 'base64');
    expect(fingerprint(blob)).toBe('SHA256:T7SvZ2cslqpPj6nKzitCBHHlpVF3r3MvLwmFL0fk0IE');
    expect(keyTypeOf(blob)).toBe('ssh-ed25519');
  });
});
