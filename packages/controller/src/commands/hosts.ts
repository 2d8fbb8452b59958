import { appendFile, readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { FleetError, toFleetError, writeFileAtomically, type FleetConfig, type FleetErrorShape } from '@zfs-fleet/protocol';
import { EXIT, type Command } from '../cli/command.ts';
import { selectHosts } from '../cli/select-hosts.ts';
import { formatTable } from '../output/format.ts';
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
      const file = config.ssh.knownHosts;
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return '';
        throw error;
      });
      const edit = trustHostKey(text, scan.name, scan.key, { replace: options.replace });
      if (edit.kind === 'already-known') {
        row.status = 'already-trusted';
        continue;
      }
      if (edit.kind === 'changed') {
        throw new FleetError('SSH_HOST_KEY_CHANGED', `Host "${scan.host}" (${scan.name}) presents ${row.keyType} ${edit.seen}, but "${file}" expects ${edit.expected.join(' or ')}.`, {
          hint: `Someone may be intercepting the connection. If the host was reinstalled and ${edit.seen} is its new key, run \`fleet hosts trust ${scan.host} --replace\`.`,
          details: { host: scan.host, seen: edit.seen, expected: edit.expected },
        });
      }
      if (options.confirm && !(await options.confirm(`Host "${scan.host}" (${scan.name}) presents ${row.keyType} ${row.fingerprint}${edit.kind === 'replaced' ? `, replacing ${edit.replaced.join(', ')}` : ''}.\nTrust it? [y/N] `))) {
        row.status = 'declined';
        continue;
      }
      if (edit.kind === 'added') {
        // Append rather than rewrite: whatever else is in the file stays byte for byte.
        const separator = text === '' || text.endsWith('\n') ? '' : '\n';
        await appendFile(file, `${separator}${knownHostsLine(scan.name, scan.key)}\n`, { mode: 0o644 });
      } else {
        const mode = (await stat(file)).mode & 0o777;
        await writeFileAtomically(file, edit.text, mode);
        row.replaced = edit.replaced;
      }
      row.status = edit.kind;
    } catch (error) {
      row.error = toFleetError(error).toShape();
    }
  }
  return rows;
}

const STATUS_TEXT: Record<TrustStatus, string> = {
  added: 'trusted',
  replaced: 'trusted, old key replaced',
  'already-trusted': 'already trusted',
  declined: 'not trusted (declined)',
  failed: 'FAILED',
};

export const hostsCommand: Command = {
  name: 'hosts',
  usage: ['fleet hosts trust (--all | HOST...) [--yes] [--replace] [--json]'],
  options: { all: { type: 'boolean' }, yes: { type: 'boolean' }, replace: { type: 'boolean' } },
  async run(context) {
    const [verb, ...hostNames] = context.args;
    if (verb !== 'trust') throw new FleetError('USAGE', `fleet hosts takes "trust", not "${verb ?? ''}".`, { hint: 'fleet hosts trust --all' });
    const { config } = await context.config();
    const hosts = selectHosts(config, hostNames, { all: context.flags.all === true, example: 'fleet hosts trust --all' });
    const yes = context.flags.yes === true;
    if (!yes && process.stdin.isTTY !== true) {
      throw new FleetError('USAGE', 'fleet hosts trust asks you to confirm each fingerprint, but stdin is not a terminal.', {
        hint: 'Compare the fingerprints with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on each host, then pass --yes.',
      });
    }
    // Ctrl+D at the prompt declines, like a plain Enter.
    const prompt = yes ? undefined : createInterface({ input: process.stdin, output: context.json ? process.stderr : context.out });
    let rows: TrustRow[];
    try {
      rows = await trustHosts(config, hosts, {
        replace: context.flags.replace === true,
        ...(prompt ? { confirm: async (question: string) => /^y(es)?$/i.test((await prompt.question(question).catch(() => '')).trim()) } : {}),
      });
    } finally {
      prompt?.close();
    }
    const ok = rows.every((row) => row.status !== 'failed');
    if (context.json) {
      context.out.write(`${JSON.stringify({ command: 'hosts trust', ok, knownHosts: config.ssh.knownHosts, rows }, null, 2)}\n`);
    } else {
      const lines = rows.map((row) => [
        row.status === 'failed' ? 'FAILED' : 'OK',
        row.host,
        row.name,
        row.keyType ?? '',
        row.fingerprint ?? '',
        row.error ? `${row.error.code}: ${row.error.message}${row.error.hint ? ` ${row.error.hint}` : ''}` : STATUS_TEXT[row.status],
      ]);
      context.out.write(`${formatTable(lines)}\nknown_hosts: ${config.ssh.knownHosts}\n`);
    }
    return ok ? EXIT.ok : EXIT.failed;
  },
};
