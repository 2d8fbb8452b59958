import { appendFile, readFile, stat } from 'node:fs/promises';
import { FleetError, toFleetError, writeFileAtomically, type FleetConfig, type FleetErrorShape } from '@zfs-fleet/protocol';
import { hostEndpoint } from '../ssh/host-endpoint.ts';
import { fingerprint, keyTypeOf, knownHostName, knownHostsLine, trustHostKey } from '../ssh/known-hosts.ts';
import { scanHostKey } from '../ssh/scan-host-key.ts';

export type TrustStatus = 'added' | 'replaced' | 'already-trusted' | 'declined' | 'failed';

export interface TrustRow {
  host: string;
  /** The name known_hosts lists it under: the address, `[address]:port` off port 22. */
  name: string;
  keyType?: string;
  fingerprint?: string;
  status: TrustStatus;
  /** Fingerprints of the keys --replace removed. */
  replaced?: string[];
  error?: FleetErrorShape;
}

type Confirm = (question: string) => Promise<boolean>;

/**
 * Records each host's key in the configured known_hosts, after a human confirms the
 * fingerprint (or `yes`). A host already listed with the presented key is left alone; one
 * listed with another key is refused unless `replace`.
 */
export async function trustHosts(config: FleetConfig, hosts: readonly string[], options: { replace: boolean; confirm?: Confirm }): Promise<TrustRow[]> {
  const scans = await Promise.all(
    hosts.map(async (host) => {
      const endpoint = hostEndpoint(config, host);
      const name = knownHostName(endpoint.host, endpoint.port);
      try {
        return { host, name, key: await scanHostKey(endpoint, { connectTimeoutMs: config.ssh.connectTimeoutMs }) };
      } catch (error) {
        return { host, name, error: toFleetError(error) };
      }
    }),
  );
  const rows: TrustRow[] = [];
  // One host at a time: each edit reads the file the previous one wrote, and prompts do not interleave.
  for (const scan of scans) {
    if (!scan.key) {
      rows.push({ host: scan.host, name: scan.name, status: 'failed', error: scan.error!.toShape() });
      continue;
    }
    const row: TrustRow = { host: scan.host, name: scan.name, keyType: keyTypeOf(scan.key), fingerprint: fingerprint(scan.key), status: 'failed' };
    rows.push(row);
    try {
      await trustOne(config.ssh.knownHosts, { host: scan.host, name: scan.name, key: scan.key }, row, options);
    } catch (error) {
      row.error = toFleetError(error).toShape();
    }
  }
  return rows;
}

/** Records one scanned key in known_hosts (asking first when `confirm`), and says how in `row`. */
async function trustOne(file: string, scan: { host: string; name: string; key: Buffer }, row: TrustRow, options: { replace: boolean; confirm?: Confirm }): Promise<void> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const edit = trustHostKey(text, scan.name, scan.key, { replace: options.replace });
  if (edit.kind === 'already-known') {
    row.status = 'already-trusted';
    return;
  }
  if (edit.kind === 'changed') {
    throw new FleetError('SSH_HOST_KEY_CHANGED', `Host "${scan.host}" (${scan.name}) presents ${row.keyType} ${edit.seen}, but "${file}" expects ${edit.expected.join(' or ')}.`, {
      hint: `Someone may be intercepting the connection. If the host was reinstalled and ${edit.seen} is its new key, run \`fleet hosts trust ${scan.host} --replace\`.`,
      details: { host: scan.host, seen: edit.seen, expected: edit.expected },
    });
  }
  if (options.confirm && !(await options.confirm(`Host "${scan.host}" (${scan.name}) presents ${row.keyType} ${row.fingerprint}${edit.kind === 'replaced' ? `, replacing ${edit.replaced.join(', ')}` : ''}.\nTrust it? [y/N] `))) {
    row.status = 'declined';
    return;
  }
  if (edit.kind === 'added') {
    // Append rather than rewrite: whatever else is in the file stays byte for byte.
    const separator = text === '' || text.endsWith('\n') ? '' : '\n';
    await appendFile(file, `${separator}${knownHostsLine(scan.name, scan.key)}\n`, { mode: 0o644 });
  } else {
    await writeFileAtomically(file, edit.text, (await stat(file)).mode & 0o777);
    row.replaced = edit.replaced;
  }
  row.status = edit.kind;
}
