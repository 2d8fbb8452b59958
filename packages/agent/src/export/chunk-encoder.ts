import { execFile, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { FleetError } from '@zfs-fleet/protocol';
import type { Writable } from 'node:stream';
import { assertSucceeded, type ChildOutcome, childOutcome, writeWithBackpressure } from './child-outcome.ts';
import { compressArgv, encryptArgv } from './export-commands.ts';

const execFileAsync = promisify(execFile);

/** One chunk on its way to the spool: raw stream bytes in, `[zstd |] age -o FILE` out. */
export interface ChunkEncoder {
  readonly index: number;
  readonly name: string;
  readonly spoolPath: string;
  rawBytes: number;
  write(data: Buffer): Promise<void>;
  /** Ends the input and waits for the processes; resolves with the stored file's size and sha256. */
  finish(): Promise<{ storedBytes: number; storedSha256: string }>;
  kill(): void;
}

/**
 * zstd's stdout is age's stdin (a kernel pipe) and age writes the file itself: the only copy
 * the agent makes is the raw stream into zstd, which it must see to cut chunks and hash it.
 */
export function startChunkEncoder(options: { index: number; name: string; spoolPath: string; recipients: readonly string[]; compression: 'zstd' | 'none' }): ChunkEncoder {
  const children: Array<{ command: string; child: ReturnType<typeof spawn> }> = [];
  let input: Writable;
  const [ageCommand, ...ageArgs] = encryptArgv(options.recipients, options.spoolPath);
  const age = (stdin: 'pipe' | NonNullable<ReturnType<typeof spawn>['stdout']>) => spawn(ageCommand!, ageArgs, { stdio: [stdin, 'ignore', 'pipe'] });
  if (options.compression === 'zstd') {
    const [command, ...args] = compressArgv();
    const zstd = spawn(command!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const encrypt = age(zstd.stdout);
    // Our copy of the pipe must close, or age would never see zstd's end of file.
    zstd.stdout.destroy();
    children.push({ command: 'zstd', child: zstd }, { command: 'age', child: encrypt });
    input = zstd.stdin;
  } else {
    const encrypt = age('pipe');
    children.push({ command: 'age', child: encrypt });
    input = encrypt.stdin!;
  }
  // A process that dies early surfaces through its exit code, not as an EPIPE crash.
  input.on('error', () => undefined);
  const outcomes: Promise<ChildOutcome[]> = Promise.all(children.map(({ command, child }) => childOutcome(command, child)));

  return {
    index: options.index,
    name: options.name,
    spoolPath: options.spoolPath,
    rawBytes: 0,
    async write(data) {
      this.rawBytes += data.length;
      await writeWithBackpressure(input, data);
    },
    async finish() {
      input.end();
      assertSucceeded(await outcomes, `chunk ${options.name}`);
      return hashFile(options.spoolPath);
    },
    kill() {
      for (const { child } of children) child.kill('SIGKILL');
    },
  };
}

/**
 * Size and sha256 of a file just written (from the page cache), by `sha256sum`: in its own
 * process, so the agent's thread keeps feeding the next chunk meanwhile (hashing 128 MiB here
 * on the event loop stalled the stream for most of a second).
 */
export async function hashFile(file: string): Promise<{ storedBytes: number; storedSha256: string }> {
  const [{ stdout }, info] = await Promise.all([execFileAsync('sha256sum', ['-b', '--', file]), stat(file)]);
  const storedSha256 = stdout.slice(0, 64);
  if (!/^[0-9a-f]{64}$/.test(storedSha256)) throw new FleetError('STREAM_FAILED', `sha256sum printed no hash for ${file}`);
  return { storedBytes: info.size, storedSha256 };
}
