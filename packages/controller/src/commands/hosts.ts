import { createInterface } from 'node:readline/promises';
import { FleetError } from '@zfs-fleet/protocol';
import { EXIT, type Command } from '../cli/command.ts';
import { selectHosts } from '../cli/select-hosts.ts';
import { trustHosts, type TrustRow, type TrustStatus } from '../hosts/trust-hosts.ts';
import { formatTable } from '../output/format.ts';

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
      const lines = rows.map((row) => [row.status === 'failed' ? 'FAILED' : 'OK', row.host, row.name, row.keyType ?? '', row.fingerprint ?? '', row.error ? `${row.error.code}: ${row.error.message}${row.error.hint ? ` ${row.error.hint}` : ''}` : STATUS_TEXT[row.status]]);
      context.out.write(`${formatTable(lines)}\nknown_hosts: ${config.ssh.knownHosts}\n`);
    }
    return ok ? EXIT.ok : EXIT.failed;
  },
};
