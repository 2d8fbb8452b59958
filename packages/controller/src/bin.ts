import { parseArgs } from 'node:util';
import { FLEET_VERSION, FleetError, parseSnapshotName, toFleetError } from '@zfs-fleet/protocol';
import { runBackup } from './backup/run-backup.ts';
import { createControllerLogger } from './cli/create-logger.ts';
import { selectSourceHosts } from './cli/select-hosts.ts';
import { loadConfig, resolveConfigPath } from './config/load-config.ts';
import { formatRunReport } from './output/print-run-report.ts';
import { createProgressReporter } from './output/progress.ts';

const USAGE = `fleet ${FLEET_VERSION}: back up the ZFS datasets of a fleet of hosts.

usage:
  fleet backup (--all | HOST...) [--dry-run] [--snapshot NAME | --no-snapshot] [--force-full] [--force] [--parallel N] [--json]
  fleet plan (--all | HOST...) [--snapshot NAME | --no-snapshot] [--force-full] [--force] [--json]
  fleet version

options:
  --config PATH          config file (default: $FLEET_CONFIG, else ./fleet.yaml)
  --json                 print a machine-readable result on stdout
  --log-level LEVEL      debug, info, warn, error (default: warn)
  --log-format FORMAT    json (default) or pretty

exit codes: 0 all good, 1 some unit failed or was blocked, 2 config or usage error, 70 internal error`;

const EXIT = { ok: 0, unitFailed: 1, usage: 2, internal: 70 } as const;

async function main(argv: string[]): Promise<number> {
  // Options may come before or after the command: `fleet --config X backup --all` works too.
  const { values, positionals: words } = parseFlags(argv);
  const [command, ...positionals] = words;
  if (command === undefined || command === 'help' || values.help) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? EXIT.usage : EXIT.ok;
  }
  if (command === 'version' || values.version) {
    process.stdout.write(`${FLEET_VERSION}\n`);
    return EXIT.ok;
  }
  const logger = createControllerLogger({ level: values['log-level'] ?? 'warn', format: values['log-format'] === 'pretty' ? 'pretty' : 'json' });
  const json = values.json === true;

  switch (command) {
    case 'backup':
    case 'plan': {
      const { config } = await loadConfig(resolveConfigPath(values.config));
      const hosts = selectSourceHosts(config, positionals, values.all === true);
      if (values.snapshot && values['no-snapshot']) throw new FleetError('USAGE', 'Give either --snapshot or --no-snapshot, not both.');
      const tty = process.stdout.isTTY === true && !json;
      const progress = createProgressReporter({ tty, stream: process.stdout, logger });
      const report = await runBackup(
        config,
        {
          hosts,
          dryRun: command === 'plan' || values['dry-run'] === true,
          ...(values.snapshot ? { snapshot: parseSnapshotName(values.snapshot) } : {}),
          noSnapshot: values['no-snapshot'] === true,
          forceFull: values['force-full'] === true,
          force: values.force === true,
          ...(values.parallel ? { parallel: parsePositiveInteger(values.parallel, '--parallel') } : {}),
          onProgress: (event) => progress.onProgress(event),
        },
        logger,
      );
      progress.stop();
      process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatRunReport(report, { colour: tty })}\n`);
      return report.ok ? EXIT.ok : EXIT.unitFailed;
    }
    default:
      throw new FleetError('USAGE', `Unknown command "${command}".`, { hint: 'Run `fleet help` for the list of commands.' });
  }
}

function parseFlags(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
        all: { type: 'boolean' },
        json: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        snapshot: { type: 'string' },
        'no-snapshot': { type: 'boolean' },
        'force-full': { type: 'boolean' },
        force: { type: 'boolean' },
        parallel: { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
      },
    });
  } catch (error) {
    throw new FleetError('USAGE', error instanceof Error ? error.message : String(error), { hint: 'Run `fleet help` for usage.' });
  }
}

function parsePositiveInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new FleetError('USAGE', `${flag} takes a whole number of at least 1, not "${text}".`);
  return value;
}

function exitCodeFor(error: FleetError): number {
  return error.code === 'USAGE' || error.code.startsWith('CONFIG_') || error.code.endsWith('_NAME_INVALID') ? EXIT.usage : error.code === 'INTERNAL' ? EXIT.internal : EXIT.unitFailed;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (thrown: unknown) => {
    const error = toFleetError(thrown);
    const wantsJson = process.argv.includes('--json');
    if (wantsJson) process.stdout.write(`${JSON.stringify({ ok: false, error: error.toShape() }, null, 2)}\n`);
    process.stderr.write(`fleet: ${error.code}: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ''}`);
    if (error.code === 'INTERNAL' && thrown instanceof Error && thrown.stack) process.stderr.write(`${thrown.stack}\n`);
    process.exitCode = exitCodeFor(error);
  },
);
