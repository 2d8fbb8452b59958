import { parseArgs } from 'node:util';
import { FLEET_VERSION, FleetError, toFleetError } from '@zfs-fleet/protocol';
import { EXIT, exitCodeFor, stringFlag, type CommandContext, type OptionSpec } from './cli/command.ts';
import { createControllerLogger } from './cli/create-logger.ts';
import { bashCompletion, completionSpec, zshCompletion } from './cli/completion.ts';
import { nearest } from './cli/nearest.ts';
import { COMMANDS } from './commands/index.ts';
import { loadConfig, resolveConfigPath } from './config/load-config.ts';

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'auto-install': { type: 'boolean' },
};

function usage(): string {
  return `fleet ${FLEET_VERSION}: back up the ZFS datasets of a fleet of hosts.

usage:
${COMMANDS.flatMap((command) => command.usage)
  .map((line) => `  ${line}`)
  .join('\n')}
  fleet version
  fleet completion bash|zsh             (shell completion: eval "$(fleet completion bash)")

options:
  --config PATH          config file (default: $FLEET_CONFIG, else ./fleet.yaml)
  --json                 print a machine-readable result on stdout
  --log-level LEVEL      debug, info, warn, error (default: warn)
  --log-format FORMAT    pretty (default on a terminal) or json (default otherwise)
  --auto-install         install the matching agent on hosts that have none or another version

exit codes: 0 all good, 1 something failed or is blocked, 2 config or usage error, 70 internal error`;
}

async function main(argv: string[]): Promise<number> {
  // Options may come before or after the command: `fleet --config X backup --all` works too.
  const { values: flags, positionals: words } = parseFlags(argv);
  const [name, ...args] = words;
  if (name === 'version' || flags.version) {
    process.stdout.write(`${FLEET_VERSION}\n`);
    return EXIT.ok;
  }
  if (name === undefined || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined && !flags.help ? EXIT.usage : EXIT.ok;
  }
  if (name === 'completion') return printCompletion(args[0]);
  const command = COMMANDS.find((candidate) => candidate.name === name);
  // An unknown command is a usage error even with --help: a script must not take it for a command that ran.
  if (!command) throw unknownCommand(name);
  if (flags.help) {
    process.stdout.write(`usage: ${command.usage.join('\n       ')}\n\nRun \`fleet help\` for the options every command takes.\n`);
    return EXIT.ok;
  }
  const unknown = Object.keys(flags).filter((flag) => !(flag in GLOBAL_OPTIONS) && !(flag in command.options));
  if (unknown.length > 0) throw new FleetError('USAGE', `fleet ${name} does not take --${unknown.join(', --')}.`, { hint: `usage: ${command.usage.join('\n       ')}` });

  const json = flags.json === true;
  const context: CommandContext = {
    flags,
    args,
    json,
    tty: process.stdout.isTTY === true && !json,
    out: process.stdout,
    autoInstall: flags['auto-install'] === true,
    logger: createControllerLogger({ level: stringFlag(flags, 'log-level') ?? 'warn', format: logFormat(stringFlag(flags, 'log-format')) }),
    config: async () => {
      const path = resolveConfigPath(stringFlag(flags, 'config'));
      return { ...(await loadConfig(path)), path };
    },
  };
  return command.run(context);
}

/** Words `fleet` itself answers, besides the registry's commands. */
const BUILTINS = ['help', 'version', 'completion'] as const;

function unknownCommand(name: string): FleetError {
  const known = [...COMMANDS.map((command) => command.name), ...BUILTINS];
  const guess = nearest(name, known);
  return new FleetError('USAGE', `Unknown command "${name}".${guess ? ` Did you mean "fleet ${guess}"?` : ''}`, {
    hint: `Commands: ${known.join(', ')}. Run \`fleet help\` for their usage.`,
    details: { command: name, ...(guess ? { nearest: guess } : {}) },
  });
}

function printCompletion(shell: string | undefined): number {
  const spec = completionSpec(COMMANDS, GLOBAL_OPTIONS, BUILTINS);
  if (shell === 'bash') process.stdout.write(bashCompletion(spec, FLEET_VERSION));
  else if (shell === 'zsh') process.stdout.write(zshCompletion(spec, FLEET_VERSION));
  else throw new FleetError('USAGE', `fleet completion takes "bash" or "zsh", not "${shell ?? ''}".`, { hint: 'eval "$(fleet completion bash)"' });
  return EXIT.ok;
}

/** Logs for the one reading them: pretty on a terminal, JSON lines for journald, files and pipes. */
function logFormat(flag: string | undefined): 'json' | 'pretty' {
  if (flag === undefined) return process.stderr.isTTY ? 'pretty' : 'json';
  if (flag === 'json' || flag === 'pretty') return flag;
  throw new FleetError('USAGE', `--log-format takes "pretty" or "json", not "${flag}".`, { hint: 'fleet backup --all --log-format json' });
}

function parseFlags(args: string[]) {
  const options: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS };
  for (const command of COMMANDS) Object.assign(options, command.options);
  try {
    return parseArgs({ args, allowPositionals: true, options });
  } catch (error) {
    throw new FleetError('USAGE', error instanceof Error ? error.message : String(error), { hint: 'Run `fleet help` for usage.' });
  }
}

let settled = false;
// If the event loop empties while main() still waits, something never settled: that must not
// look like success (exit 0) to cron or systemd.
process.once('beforeExit', () => {
  if (settled) return;
  process.stderr.write('fleet: INTERNAL: the command stopped before finishing (an operation never completed); nothing reported it as done.\n');
  process.exitCode = 70;
});

main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (thrown: unknown) => {
    settled = true;
    const error = toFleetError(thrown);
    if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ ok: false, error: error.toShape() }, null, 2)}\n`);
    process.stderr.write(`fleet: ${error.code}: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ''}`);
    if (error.code === 'INTERNAL' && thrown instanceof Error && thrown.stack) process.stderr.write(`${thrown.stack}\n`);
    process.exitCode = exitCodeFor(error);
  },
);
