import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { buildRecvArgs, type RecvOptions } from './commands.ts';

/**
 * Runs `zfs recv` on a stream read from `input`, with zfs's output and complaints passed
 * straight through to this process's own (a replication key's forced command: the source's
 * ssh then shows zfs's own words). Returns zfs's exit code.
 */
export async function receiveStream(options: RecvOptions, input: Readable, binary = 'zfs'): Promise<number> {
  const recv = execa(binary, buildRecvArgs(options), { stdin: 'pipe', stdout: 'inherit', stderr: 'inherit', reject: false });
  // A receive that dies early closes its stdin; its exit code says why, not the broken pipe.
  await pipeline(input, recv.stdin).catch(() => undefined);
  return (await recv).exitCode ?? 1;
}
