import { FLEET_VERSION } from '@zfs-fleet/protocol';
import { createAgentLogger } from './logger.ts';
import { parseReceiveCommand, Refusal } from './receive-command.ts';
import { runReceive } from './restricted-recv.ts';
import { serveAgent } from './serve.ts';

const USAGE = `fleet-agent ${FLEET_VERSION}: the zfs-fleet agent. The controller starts it over SSH.

usage:
  fleet-agent serve --stdio [--log-level debug|info|warn|error]
                              serve the agent protocol on stdin/stdout (logs on stderr)
  fleet-agent recv --root DATASET [--allow-rollback]
                              the forced command of a source host's replication key: runs the
                              receive in $SSH_ORIGINAL_COMMAND if it stays inside DATASET
  fleet-agent version         print the version
  fleet-agent runtime         print the Node.js version that runs it`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'version' || command === '--version') {
    process.stdout.write(`${FLEET_VERSION}\n`);
    return 0;
  }
  if (command === 'runtime') {
    // The single executable carries its own Node.js: `fleet agent install` reports which.
    process.stdout.write(`${process.version}\n`);
    return 0;
  }
  if (command === 'serve' && rest.includes('--stdio')) {
    const levelIndex = rest.indexOf('--log-level');
    const level = levelIndex >= 0 ? rest[levelIndex + 1] : undefined;
    const logger = createAgentLogger(level && ['debug', 'info', 'warn', 'error'].includes(level) ? level : undefined);
    // A vanished controller must not kill us mid-cleanup with EPIPE.
    process.stdout.on('error', () => undefined);
    logger.debug({ version: FLEET_VERSION, node: process.version }, 'agent serving on stdio');
    await serveAgent({ input: process.stdin, output: process.stdout, logger });
    return 0;
  }
  if (command === 'recv') return restrictedReceive(rest);
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

async function restrictedReceive(args: string[]): Promise<number> {
  const rootIndex = args.indexOf('--root');
  const root = rootIndex >= 0 ? args[rootIndex + 1] : undefined;
  if (!root) {
    process.stderr.write('fleet-agent recv: --root DATASET is required\n');
    return 2;
  }
  try {
    const command = parseReceiveCommand(process.env.SSH_ORIGINAL_COMMAND ?? '', { root, allowRollback: args.includes('--allow-rollback') });
    return await runReceive(command);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    process.stderr.write(`fleet-agent: ${error.message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`fleet-agent: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 70;
  },
);
