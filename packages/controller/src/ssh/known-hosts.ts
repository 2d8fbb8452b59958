import { createHash, createHmac } from 'node:crypto';

/** One usable line of an OpenSSH known_hosts file. */
export interface KnownHostEntry {
  /** Plain patterns (`10.0.0.1`, `[host]:2222`) or one hashed `|1|salt|hash` pattern. */
  patterns: string[];
  keyType: string;
  /** The key blob, base64 as in the file. */
  keyBase64: string;
}

/** Parses known_hosts text; skips comments, markers (@revoked, @cert-authority) and blank lines. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('@')) continue;
    const [hosts, keyType, keyBase64] = line.split(/\s+/);
    if (!hosts || !keyType || !keyBase64) continue;
    entries.push({ patterns: hosts.split(','), keyType, keyBase64 });
  }
  return entries;
}

/** The name OpenSSH writes for a host: bare on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  return pattern === name;
}

/** The keys known_hosts lists for this host name. */
export function keysForHost(entries: readonly KnownHostEntry[], name: string): KnownHostEntry[] {
  return entries.filter((entry) => entry.patterns.some((pattern) => patternMatches(pattern, name)));
}

/** OpenSSH's `SHA256:...` fingerprint of a key blob. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type encoded at the start of an SSH public key blob. */
export function keyTypeOf(keyBlob: Buffer): string {
  const length = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + length).toString('ascii');
}

export type HostKeyVerdict = { kind: 'known' } | { kind: 'unknown'; seen: string } | { kind: 'changed'; seen: string; expected: string[] };

/** Compares a presented key with known_hosts: known, unknown, or changed (a key of the same type differs). */
export function checkHostKey(entries: readonly KnownHostEntry[], name: string, keyBlob: Buffer): HostKeyVerdict {
  const listed = keysForHost(entries, name);
  const presented = keyBlob.toString('base64');
  if (listed.some((entry) => entry.keyBase64 === presented)) return { kind: 'known' };
  const seen = fingerprint(keyBlob);
  const sameType = listed.filter((entry) => entry.keyType === keyTypeOf(keyBlob));
  if (sameType.length === 0) return { kind: 'unknown', seen };
  return { kind: 'changed', seen, expected: sameType.map((entry) => fingerprint(Buffer.from(entry.keyBase64, 'base64'))) };
}

/** The line `fleet hosts trust` writes: `name keytype base64`, as `ssh-keyscan` prints it. */
export function knownHostsLine(name: string, keyBlob: Buffer): string {
  return `${name} ${keyTypeOf(keyBlob)} ${keyBlob.toString('base64')}`;
}

export type TrustEdit =
  /** `text` is the whole new file. */
  { kind: 'added' | 'replaced'; text: string; replaced: string[] } | { kind: 'already-known' } | { kind: 'changed'; seen: string; expected: string[] };

/**
 * Records a host key in known_hosts text. A key already listed changes nothing; another key of
 * the same type for the host is refused (`changed`) unless `replace`, which removes the host's
 * name from those lines (and lines left with no name) before adding the new one.
 */
export function trustHostKey(text: string, name: string, keyBlob: Buffer, options: { replace?: boolean } = {}): TrustEdit {
  const verdict = checkHostKey(parseKnownHosts(text), name, keyBlob);
  if (verdict.kind === 'known') return { kind: 'already-known' };
  if (verdict.kind === 'changed' && !options.replace) return verdict;
  const keyType = keyTypeOf(keyBlob);
  const kept: string[] = [];
  const replaced: string[] = [];
  for (const raw of text.split('\n')) {
    const [entry] = parseKnownHosts(raw);
    if (verdict.kind !== 'changed' || !entry || entry.keyType !== keyType || !entry.patterns.some((pattern) => patternMatches(pattern, name))) {
      kept.push(raw);
      continue;
    }
    replaced.push(fingerprint(Buffer.from(entry.keyBase64, 'base64')));
    const others = entry.patterns.filter((pattern) => !patternMatches(pattern, name));
    // Keep the rest of the line (its key, any comment) for the host's other names.
    if (others.length > 0) kept.push(raw.trim().replace(/^\S+/, others.join(',')));
  }
  const body = kept.join('\n').replace(/\n*$/, '');
  return { kind: verdict.kind === 'changed' ? 'replaced' : 'added', text: `${body === '' ? '' : `${body}\n`}${knownHostsLine(name, keyBlob)}\n`, replaced };
}
