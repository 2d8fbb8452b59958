import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { explainDatasetName, isWithin } from '@zfs-fleet/protocol';

/** What a source host may ask a peer for with its replication key: one receive, nothing else. */
export interface ReceiveRequest {
  decompress?: 'zstd' | 'lz4';
  /** `zfs recv` flags, from the allowed set. */
  flags: string[];
  target: string;
}

const DECOMPRESSORS: Record<string, ReceiveRequest['decompress']> = {
  'zstd -d -c -q': 'zstd',
  'lz4 -d -c -q': 'lz4',
};
const RECV_FLAGS = new Set(['-d', '-u', '-s', '-F']);

export class Refusal extends Error {}

/**
 * Parses the command a source host sent (sshd hands it over in SSH_ORIGINAL_COMMAND when the
 * key has a forced command). Only `[zstd|lz4 -d -c -q |] zfs recv [-d] [-u] [-s] [-F] TARGET`
 * with TARGET inside `root` passes: no shell ever sees it, so nothing else can run.
 */
export function parseReceiveRequest(command: string, options: { root: string; allowRollback: boolean }): ReceiveRequest {
  const stages = command.split('|').map((stage) => stage.trim().split(/\s+/).filter(Boolean));
  if (stages.length === 0 || stages.length > 2 || stages.some((stage) => stage.length === 0)) throw new Refusal(`refused: "${command}" is not a receive`);
  const request: ReceiveRequest = { flags: [], target: '' };
  if (stages.length === 2) {
    const decompress = DECOMPRESSORS[stages[0]!.join(' ')];
    if (!decompress) throw new Refusal(`refused: "${stages[0]!.join(' ')}" is not an allowed decompressor`);
    request.decompress = decompress;
  }
  const [zfs, verb, ...rest] = stages.at(-1)!;
  if (zfs !== 'zfs' || (verb !== 'recv' && verb !== 'receive')) throw new Refusal(`refused: only "zfs recv" is allowed with this key, not "${stages.at(-1)!.join(' ')}"`);
  const target = rest.pop();
  for (const flag of rest) {
    if (!RECV_FLAGS.has(flag)) throw new Refusal(`refused: zfs recv flag "${flag}" is not allowed with this key`);
    if (flag === '-F' && !options.allowRollback) throw new Refusal('refused: this key may not roll back or replace datasets (zfs recv -F); set it up with `fleet keys setup --allow-rollback` to allow that');
  }
  if (!target || explainDatasetName(target) !== undefined) throw new Refusal(`refused: "${target ?? ''}" is not a dataset name`);
  if (!isWithin(target, options.root)) throw new Refusal(`refused: "${target}" is outside ${options.root}, the only subtree this key may receive into`);
  request.flags = rest;
  request.target = target;
  return request;
}

/** Runs an accepted receive: stdin → [decompressor] → zfs recv, argument arrays only. */
export async function runReceive(request: ReceiveRequest): Promise<number> {
  const recv = execa('zfs', ['recv', ...request.flags, request.target], { stdin: 'pipe', stdout: 'inherit', stderr: 'inherit', reject: false });
  if (request.decompress) {
    const decompress = execa(request.decompress, ['-d', '-c', '-q'], { stdin: 'inherit', stdout: 'pipe', stderr: 'inherit', reject: false });
    await pipeline(decompress.stdout, recv.stdin).catch(() => undefined);
    const [first, second] = await Promise.all([decompress, recv]);
    return first.exitCode || second.exitCode || 0;
  }
  await pipeline(process.stdin, recv.stdin).catch(() => undefined);
  return (await recv).exitCode ?? 1;
}
