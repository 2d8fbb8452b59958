import { explainDatasetName, isWithin, splitQuotedPipeline } from '@zfs-fleet/protocol';
import { buildRecvArgs, type RecvOptions } from '@zfs-fleet/zfs';
import { COMPRESSIONS, decompressorArgv, type Compression } from './wire.ts';

/**
 * What a source asks its peer to run for one stream: an optional decompressor, then one
 * `zfs recv`. It stays in this typed form until ssh needs words (`receiveCommandStages`), and
 * a peer's forced command parses the words back into it (`parseReceiveCommand`).
 */
export interface ReceiveCommand {
  decompress?: Compression;
  recv: RecvOptions;
}

/** The command as argv stages for the peer's shell: `[decompressor] | zfs recv ...`. */
export function receiveCommandStages(command: ReceiveCommand): string[][] {
  return [...(command.decompress ? [decompressorArgv(command.decompress)] : []), ['zfs', ...buildRecvArgs(command.recv)]];
}

/** A command a replication key may not run, in words for the source's ssh to show. */
export class Refusal extends Error {}

const RECV_FLAGS: Record<string, keyof Omit<RecvOptions, 'target'>> = { '-d': 'discardPool', '-u': 'noMount', '-s': 'resumable', '-F': 'force' };

/**
 * Parses the command a source host sent (sshd hands it over in SSH_ORIGINAL_COMMAND when the
 * key has a forced command). Only `[zstd|lz4 -d -c -q |] zfs recv [-d] [-u] [-s] [-F] TARGET`
 * with TARGET inside `root` passes (quoted as the source's ssh quotes it: names may hold
 * spaces): no shell ever sees it, so nothing else can run.
 */
export function parseReceiveCommand(text: string, options: { root: string; allowRollback: boolean }): ReceiveCommand {
  const stages = splitQuotedPipeline(text);
  if (!stages) throw new Refusal(`refused: "${text}" is not a plain command line (only words, single quotes and "|")`);
  if (stages.length === 0 || stages.length > 2 || stages.some((stage) => stage.length === 0)) throw new Refusal(`refused: "${text}" is not a receive`);
  const command: ReceiveCommand = { recv: { target: '' } };
  if (stages.length === 2) {
    const words = stages[0]!.join(' ');
    const decompress = COMPRESSIONS.find((compression) => decompressorArgv(compression).join(' ') === words);
    if (!decompress) throw new Refusal(`refused: "${words}" is not an allowed decompressor`);
    command.decompress = decompress;
  }
  const [zfs, verb, ...rest] = stages.at(-1)!;
  if (zfs !== 'zfs' || (verb !== 'recv' && verb !== 'receive')) throw new Refusal(`refused: only "zfs recv" is allowed with this key, not "${stages.at(-1)!.join(' ')}"`);
  const target = rest.pop();
  for (const flag of rest) {
    const option = RECV_FLAGS[flag];
    if (!option) throw new Refusal(`refused: zfs recv flag "${flag}" is not allowed with this key`);
    if (option === 'force' && !options.allowRollback) throw new Refusal('refused: this key may not roll back or replace datasets (zfs recv -F); set it up with `fleet keys setup --allow-rollback` to allow that');
    command.recv[option] = true;
  }
  if (!target || explainDatasetName(target) !== undefined) throw new Refusal(`refused: "${target ?? ''}" is not a dataset name`);
  if (!isWithin(target, options.root)) throw new Refusal(`refused: "${target}" is outside ${options.root}, the only subtree this key may receive into`);
  command.recv.target = target;
  return command;
}
