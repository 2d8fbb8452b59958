import { EXIT, stringFlag, type Command } from '../cli/command.ts';
import { createClock } from '../cli/create-clock.ts';
import { selectHosts } from '../cli/select-hosts.ts';
import { formatVerifyReport } from '../output/print-verify-report.ts';
import { runVerify } from '../verify/run-verify.ts';

export const verifyCommand: Command = {
  name: 'verify',
  usage: ['fleet verify (--all | HOST...) [--json] [--now ISO-TIME]'],
  options: { all: { type: 'boolean' }, now: { type: 'string' } },
  async run(context) {
    const { config } = await context.config();
    const hosts = selectHosts(config, context.args, { all: context.flags.all === true, sources: true, example: 'fleet verify --all' });
    // The same injectable clock as run and status: an invalid --now/FLEET_NOW is a usage error, not NaN ages.
    const now = createClock(stringFlag(context.flags, 'now'))();
    const report = await runVerify(config, { hosts, now, autoInstall: context.autoInstall }, context.logger);
    context.out.write(context.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatVerifyReport(report, { colour: context.tty })}\n`);
    return report.ok ? EXIT.ok : EXIT.failed;
  },
};
