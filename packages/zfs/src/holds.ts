import { parseDatasetName, parseSnapshotName } from '@zfs-fleet/protocol';
import { isHoldAlreadySettled } from './classify-error.ts';
import { zfsFailure, type ZfsExec } from './exec.ts';

/** The hold tag that keeps a peer's incremental base: one per peer, so peers do not share fate. */
export function holdTag(peer: string): string {
  return `zfs-fleet:${peer}`;
}

/**
 * The calls that move a peer's hold from the old base to the new one: hold first, release
 * after, so there is never a moment with no base protected. `-r` for `-R` transfers.
 */
export function moveHoldArgs(options: { dataset: string; from?: string; to: string; peer: string; recursive: boolean }): string[][] {
  const dataset = parseDatasetName(options.dataset);
  const flags = options.recursive ? ['-r'] : [];
  const tag = holdTag(options.peer);
  const calls = [['hold', ...flags, tag, `${dataset}@${parseSnapshotName(options.to)}`]];
  if (options.from && options.from !== options.to) calls.push(['release', ...flags, tag, `${dataset}@${parseSnapshotName(options.from)}`]);
  return calls;
}

/**
 * Protects the newest snapshot a peer shares with this host from `zfs destroy` by anyone,
 * with a user hold. A release that finds no hold (the first run, or an older version) is fine.
 */
export async function moveHold(zfs: ZfsExec, options: Parameters<typeof moveHoldArgs>[0]): Promise<void> {
  for (const argv of moveHoldArgs(options)) {
    const result = await zfs.run(argv, { allowFailure: true });
    if (result.exitCode !== 0 && !isHoldAlreadySettled(result.stderr)) throw zfsFailure(argv, result.stderr, result.exitCode);
  }
}
