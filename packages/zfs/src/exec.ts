import os from 'node:os';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import type pino from 'pino';
import { FleetError } from '@zfs-fleet/protocol';
import { classifyZfsError } from './classify-error.ts';

export interface ZfsRunOptions {
  signal?: AbortSignal;
  /** Exit codes that are not failures for this call (the caller reads stderr itself). */
  allowFailure?: boolean;
}

export interface ZfsRunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ZfsStream {
  stdout: Readable;
  /** Settles when zfs exits; never rejects, so a broken pipe cannot become an unhandled rejection. */
  result: Promise<{ exitCode: number; stderr: string; error?: FleetError }>;
}

/** Every `zfs` invocation of a process goes through one of these, so it can be counted and logged. */
export interface ZfsExec {
  run(argv: readonly string[], options?: ZfsRunOptions): Promise<ZfsRunResult>;
  /** `launcher`: words run before zfs (`setpriv --pdeathsig KILL --`), which exec it in their place. */
  spawn(argv: readonly string[], options?: { signal?: AbortSignal; launcher?: readonly string[] }): ZfsStream;
  calls(): { total: number; byVerb: Record<string, number> };
}

export interface ZfsExecOptions {
  logger: pino.Logger;
  /** The zfs binary; tests point it at a wrapper. */
  binary?: string;
}

export function createZfsExec(options: ZfsExecOptions): ZfsExec {
  const binary = options.binary ?? 'zfs';
  const byVerb: Record<string, number> = {};
  let total = 0;
  const count = (argv: readonly string[]) => {
    total += 1;
    const verb = argv[0] ?? '';
    byVerb[verb] = (byVerb[verb] ?? 0) + 1;
    options.logger.debug({ argv }, 'zfs');
  };

  return {
    async run(argv, runOptions = {}) {
      count(argv);
      const result = await execa(binary, argv, {
        reject: false,
        stdin: 'ignore',
        // As zfs printed it: zfs ends every line, so a listing cut mid-line is told apart (parseTree).
        stripFinalNewline: false,
        ...(runOptions.signal ? { cancelSignal: runOptions.signal } : {}),
      });
      if (couldNotStart(result)) throw spawnFailure(binary, argv, String(result.originalMessage ?? result.message));
      const outcome = { exitCode: exitCodeOf(result), stdout: result.stdout, stderr: result.stderr };
      if (outcome.exitCode !== 0 && !runOptions.allowFailure) throw zfsFailure(argv, outcome.stderr, outcome.exitCode);
      return outcome;
    },

    spawn(argv, spawnOptions = {}) {
      count(argv);
      const [command, ...words] = [...(spawnOptions.launcher ?? []), binary, ...argv];
      const child = execa(command!, words, {
        reject: false,
        stdin: 'ignore',
        buffer: { stdout: false, stderr: true },
        ...(spawnOptions.signal ? { cancelSignal: spawnOptions.signal } : {}),
      });
      const result = child.then((done) => {
        const exitCode = exitCodeOf(done);
        // A zfs send whose reader went away dies of SIGPIPE: say so, the caller decides whose fault it is.
        const stderr = String(done.stderr ?? '') || (done.signal ? `killed by ${done.signal}${done.signal === 'SIGPIPE' ? ' (Broken pipe)' : ''}` : '');
        if (done.isCanceled) return { exitCode, stderr, error: new FleetError('CANCELLED', `zfs ${argv[0]} was cancelled.`) };
        if (exitCode === 0) return { exitCode, stderr };
        if (couldNotStart(done)) return { exitCode, stderr, error: spawnFailure(binary, argv, String(done.originalMessage ?? done.message)) };
        return { exitCode, stderr, error: zfsFailure(argv, stderr, exitCode) };
      });
      return { stdout: child.stdout, result };
    },

    calls() {
      return { total, byVerb: { ...byVerb } };
    },
  };
}

/** Killed by a signal: the shell's convention, 128 + its number (SIGPIPE is 141). */
function exitCodeOf(result: { exitCode?: number | undefined; signal?: string | undefined }): number {
  if (result.exitCode !== undefined) return result.exitCode;
  const number = result.signal ? os.constants.signals[result.signal as keyof typeof os.constants.signals] : undefined;
  return number === undefined ? -1 : 128 + number;
}

/** No exit code and no signal: the process never ran (no zfs binary, no permission). */
function couldNotStart(result: { exitCode?: number | undefined; signal?: string | undefined; failed: boolean }): boolean {
  return result.failed && result.exitCode === undefined && result.signal === undefined;
}

function spawnFailure(binary: string, argv: readonly string[], message: string): FleetError {
  return new FleetError('ZFS_NOT_FOUND', `Could not run "${binary} ${argv[0] ?? ''}": ${message}`, {
    hint: 'Install ZFS on this host (e.g. `apt install zfsutils-linux`) and make sure `zfs` is on the PATH of non-interactive SSH sessions.',
  });
}

/** Turns a failed zfs call into a typed error that quotes zfs's own words. */
export function zfsFailure(argv: readonly string[], stderr: string, exitCode: number): FleetError {
  const { code, hint } = classifyZfsError(stderr, argv);
  const said = firstMeaningfulLine(stderr) || `exit code ${exitCode}`;
  return new FleetError(code, `zfs ${argv.join(' ')}: ${said}`, { ...(hint ? { hint } : {}), details: { argv: [...argv], stderr: stderr.trim(), exitCode } });
}

/** zfs prints its usage text after the actual complaint; keep the complaint. */
export function firstMeaningfulLine(stderr: string): string {
  return (
    stderr
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line.length > 0 && !line.startsWith('usage')) ?? ''
  );
}
