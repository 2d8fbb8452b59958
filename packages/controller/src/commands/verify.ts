import { FleetError } from '@zfs-fleet/protocol';
import { EXIT, stringFlag, type Command } from '../cli/command.ts';
import { createClock } from '../cli/create-clock.ts';
import { selectHosts } from '../cli/select-hosts.ts';
import { formatVerifyReport } from '../output/print-verify-report.ts';
import { runVerify } from '../verify/run-verify.ts';

export const verifyCommand: Command = {
  name: 'verify',
  usage: ['fleet verify (--all | HOST...) [--target NAME] [--deep | --sample PERCENT] [--cleanup] [--json] [--now ISO-TIME]'],
  options: { all: { type: 'boolean' }, now: { type: 'string' }, deep: { type: 'boolean' }, sample: { type: 'string' }, target: { type: 'string' }, cleanup: { type: 'boolean' } },
  async run(context) {
    const { config } = await context.config();
    const hosts = selectHosts(config, context.args, { all: context.flags.all === true, sources: true, example: 'fleet verify --all' });
    // The same injectable clock as run and status: an invalid --now/FLEET_NOW is a usage error, not NaN ages.
    const now = createClock(stringFlag(context.flags, 'now'))();
    const sample = stringFlag(context.flags, 'sample');
    const hashPercent = context.flags.deep === true ? 100 : sample === undefined ? 0 : Number(sample);
    if (!Number.isFinite(hashPercent) || hashPercent < 0 || hashPercent > 100 || (sample !== undefined && context.flags.deep === true)) throw new FleetError('USAGE', '--sample takes a percentage from 0 to 100, and not with --deep');
    const target = stringFlag(context.flags, 'target');
    if (target && !Object.hasOwn(config.targets, target)) throw new FleetError('USAGE', `"${target}" is not an export target in the config`);
    const report = await runVerify(config, { hosts, now, autoInstall: context.autoInstall, hashPercent, cleanup: context.flags.cleanup === true, ...(target ? { target } : {}) }, context.logger);
    context.out.write(context.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatVerifyReport(report, { colour: context.tty })}\n`);
    return report.ok ? EXIT.ok : EXIT.failed;
  },
};
