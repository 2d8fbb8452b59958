import { FleetError } from '@zfs-fleet/protocol';
import { installAgents, type AgentInstallResult } from '../agent/install-agent.ts';
import { EXIT, type Command } from '../cli/command.ts';
import { selectHosts } from '../cli/select-hosts.ts';
import { formatBytes, formatTable } from '../output/format.ts';

export const agentCommand: Command = {
  name: 'agent',
  usage: ['fleet agent install (--all | HOST...) [--json]'],
  options: { all: { type: 'boolean' } },
  async run(context) {
    const [verb, ...hostNames] = context.args;
    if (verb !== 'install') throw new FleetError('USAGE', `fleet agent takes "install", not "${verb ?? ''}".`, { hint: 'fleet agent install --all' });
    const { config } = await context.config();
    const hosts = selectHosts(config, hostNames, { all: context.flags.all === true, example: 'fleet agent install --all' });
    const rows = await installAgents(config, hosts, context.logger);
    const ok = rows.every((row) => row.ok);
    if (context.json) {
      context.out.write(`${JSON.stringify({ command: 'agent install', ok, rows }, null, 2)}\n`);
    } else {
      const lines = rows.map((row) => (row.ok ? ['OK', row.host, `${describeInstall(row.result)}${row.result.warning ? `; warning: ${row.result.warning}` : ''}`] : ['FAILED', row.host, `${row.error.code}: ${row.error.message}${row.error.hint ? ` ${row.error.hint}` : ''}`]));
      context.out.write(`${formatTable(lines)}\n`);
    }
    return ok ? EXIT.ok : EXIT.failed;
  },
};

/** What the install did on one host, in one line. */
export function describeInstall(result: AgentInstallResult): string {
  const sent = result.uploaded ? `uploaded ${formatBytes(result.bytes)} to ${result.bundle}` : `${result.bundle} already there (same sha256), not sent again`;
  const runtime = result.runtime === 'bundled' ? `single executable with Node.js ${result.nodeVersion} (${result.why})` : `on Node.js ${result.nodeVersion} (${result.runtime})`;
  return `fleet-agent ${result.version} ${runtime}: ${sent}`;
}
