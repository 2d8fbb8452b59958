import { toFleetError } from '@zfs-fleet/protocol';
import { EXIT, type Command, type CommandContext } from '../cli/command.ts';
import { selectHosts } from '../cli/select-hosts.ts';
import type { DoctorCheck } from '../doctor/doctor-checks.ts';
import { runDoctor } from '../doctor/run-doctor.ts';
import { formatTable } from '../output/format.ts';

function print(context: CommandContext, checks: readonly DoctorCheck[]): boolean {
  const ok = checks.every((check) => check.status !== 'FAIL');
  if (context.json) {
    context.out.write(`${JSON.stringify({ command: 'doctor', ok, checks }, null, 2)}\n`);
    return ok;
  }
  const colour = (status: DoctorCheck['status']) => (!context.tty ? status : status === 'OK' ? `\x1b[32m${status}\x1b[0m` : status === 'WARN' ? `\x1b[33m${status}\x1b[0m` : `\x1b[31m${status}\x1b[0m`);
  const rows = checks.map((check) => [colour(check.status), check.host ?? '-', check.check, `${check.message}${check.fix ? `\n    fix: ${check.fix}` : ''}`]);
  const failed = checks.filter((check) => check.status === 'FAIL').length;
  const warned = checks.filter((check) => check.status === 'WARN').length;
  context.out.write(`${formatTable(rows)}\n${failed === 0 && warned === 0 ? 'all good' : `${failed} to fix, ${warned} warning${warned === 1 ? '' : 's'}`}\n`);
  return ok;
}

export const doctorCommand: Command = {
  name: 'doctor',
  usage: ['fleet doctor [HOST...] [--json]'],
  options: {},
  async run(context) {
    let loaded: Awaited<ReturnType<CommandContext['config']>>;
    try {
      loaded = await context.config();
    } catch (thrown) {
      // A config that does not load is the one finding; nothing else can be checked (exit 2, as for every command).
      const error = toFleetError(thrown);
      if (!error.code.startsWith('CONFIG_')) throw thrown;
      print(context, [{ check: 'config', status: 'FAIL', message: `${error.code}: ${error.message}`, ...(error.hint ? { fix: error.hint } : {}) }]);
      return EXIT.usage;
    }
    const { config, path } = loaded;
    const hosts = selectHosts(config, context.args, { all: false, allByDefault: true, example: 'fleet doctor' });
    const ok = print(context, await runDoctor(config, path, hosts, context.logger));
    return ok ? EXIT.ok : EXIT.failed;
  },
};
