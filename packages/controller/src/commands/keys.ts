import { FleetError } from '@zfs-fleet/protocol';
import { EXIT, type Command } from '../cli/command.ts';
import { selectHosts } from '../cli/select-hosts.ts';
import { setUpKeys } from '../keys/set-up-keys.ts';
import { formatTable } from '../output/format.ts';

export const keysCommand: Command = {
  name: 'keys',
  usage: ['fleet keys setup (--all | HOST...) [--allow-rollback] [--json]'],
  options: { all: { type: 'boolean' }, 'allow-rollback': { type: 'boolean' } },
  async run(context) {
    const [verb, ...hostNames] = context.args;
    if (verb !== 'setup') throw new FleetError('USAGE', `fleet keys takes "setup", not "${verb ?? ''}".`, { hint: 'fleet keys setup --all' });
    const { config } = await context.config();
    const hosts = selectHosts(config, hostNames, { all: context.flags.all === true, sources: true, example: 'fleet keys setup --all' });
    const rows = await setUpKeys(config, hosts, { allowRollback: context.flags['allow-rollback'] === true }, context.logger);
    const ok = rows.every((row) => row.ok);
    if (context.json) context.out.write(`${JSON.stringify({ command: 'keys setup', ok, rows }, null, 2)}\n`);
    else context.out.write(`${formatTable(rows.map((row) => [row.ok ? 'OK' : 'FAILED', row.host, `→ ${row.peer}`, row.detail]))}\n`);
    return ok ? EXIT.ok : EXIT.failed;
  },
};
