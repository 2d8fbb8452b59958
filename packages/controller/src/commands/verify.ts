import { EXIT, type Command } from '../cli/command.ts';
import { selectSourceHosts } from '../cli/select-hosts.ts';
import { formatVerifyReport } from '../output/print-verify-report.ts';
import { runVerify } from '../verify/run-verify.ts';

export const verifyCommand: Command = {
  name: 'verify',
  usage: ['fleet verify (--all | HOST...) [--json]'],
  options: { all: { type: 'boolean' } },
  async run(context) {
    const { config } = await context.config();
    const hosts = selectSourceHosts(config, context.args, context.flags.all === true);
    const now = process.env.FLEET_NOW ? new Date(process.env.FLEET_NOW) : new Date();
    const report = await runVerify(config, { hosts, now, autoInstall: context.autoInstall }, context.logger);
    context.out.write(context.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatVerifyReport(report, { colour: context.tty })}\n`);
    return report.ok ? EXIT.ok : EXIT.failed;
  },
};
