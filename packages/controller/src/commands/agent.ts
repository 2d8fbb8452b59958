import { FleetError, toFleetError, type FleetErrorShape } from '@zfs-fleet/protocol';
import { installAgent, type AgentInstallResult } from '../agent/install-agent.ts';
import { EXIT, type Command } from '../cli/command.ts';
import { selectHosts } from '../cli/select-hosts.ts';
import { formatTable } from '../output/format.ts';

export type AgentInstallRow = { host: string; ok: true; result: AgentInstallResult } | { host: string; ok: false; error: FleetErrorShape };

export const agentCommand: Command = {
  name: 'agent',
  usage: ['fleet agent install (--all | HOST...) [--json]'],
  options: { all: { type: 'boolean' } },
  async run(context) {
    const [verb, ...hostNames] = context.args;
    if (verb !== 'install') throw new FleetError('USAGE', `fleet agent takes "install", not "${verb ?? ''}".`, { hint: 'fleet agent install --all' });
    const { config } = await context.config();
    const hosts = selectHosts(config, hostNames, { all: context.flags.all === true, example: 'fleet agent install --all' });
    // Hosts are independent: one that cannot take the agent does not hold up the others.
    const rows = await Promise.all(
      hosts.map(async (host): Promise<AgentInstallRow> => {
        try {
          return { host, ok: true, result: await installAgent(config, host, context.logger) };
        } catch (error) {
          return { host, ok: false, error: toFleetError(error).toShape() };
        }
      }),
    );
    const ok = rows.every((row) => row.ok);
    if (context.json) {
      context.out.write(`${JSON.stringify({ command: 'agent install', ok, rows }, null, 2)}\n`);
    } else {
      const lines = rows.map((row) =>
        row.ok
          ? ['OK', row.host, `fleet-agent ${row.result.version} on Node.js ${row.result.nodeVersion} (${row.result.runtime})${row.result.warning ? `; warning: ${row.result.warning}` : ''}`]
          : ['FAILED', row.host, `${row.error.code}: ${row.error.message}${row.error.hint ? ` ${row.error.hint}` : ''}`],
      );
      context.out.write(`${formatTable(lines)}\n`);
    }
    return ok ? EXIT.ok : EXIT.failed;
  },
};
