import { FleetError, parseDatasetName, parseSnapshotName, type FleetErrorCode } from '@zfs-fleet/protocol';
import { classifyZfsError } from './classify-error.ts';
import type { ZfsExec } from './exec.ts';

/** Linux's argv limit is far higher; staying well below it keeps one call per dataset in practice. */
const MAX_ARGUMENT_BYTES = 96 * 1024;

/**
 * The `zfs destroy` calls that remove `names` from one dataset: never `-r`, never `-R`, never
 * `-d` (deferred destroy would silently leave a held snapshot marked for later), never the
 * dataset itself. Where zfs takes a comma list (`ds@a,b,c`, OpenZFS), one call per dataset;
 * otherwise (zfs-fuse) one per snapshot.
 */
export function destroySnapshotsArgs(dataset: string, names: readonly string[], options: { manyPerCall: boolean }): string[][] {
  const checked = parseDatasetName(dataset);
  const snapshots = names.map((name) => {
    // `zfs destroy ds@a%b` destroys the whole range from a to b on OpenZFS.
    if (name.includes('%')) throw new FleetError('SNAPSHOT_NAME_INVALID', `Refusing to destroy "${dataset}@${name}": zfs would read "%" as a range of snapshots.`, { hint: 'Destroy it by hand if you mean to.' });
    return parseSnapshotName(name);
  });
  if (snapshots.length === 0) return [];
  if (!options.manyPerCall) return snapshots.map((name) => ['destroy', `${checked}@${name}`]);
  const calls: string[][] = [];
  let batch: string[] = [];
  let bytes = 0;
  for (const name of snapshots) {
    if (batch.length > 0 && bytes + name.length + 1 > MAX_ARGUMENT_BYTES) {
      calls.push(['destroy', `${checked}@${batch.join(',')}`]);
      batch = [];
      bytes = checked.length;
    }
    batch.push(name);
    bytes += name.length + 1;
  }
  calls.push(['destroy', `${checked}@${batch.join(',')}`]);
  return calls;
}

export interface DestroyOutcome {
  destroyed: string[];
  /** Snapshots zfs would not destroy because something uses them (a send, a clone, a hold). */
  busy: string[];
  /** The first other failure, with zfs's words. */
  error?: { code: FleetErrorCode; message: string };
}

/** Runs the batched destroys of one dataset; a busy snapshot is reported, not thrown. */
export async function destroySnapshots(zfs: ZfsExec, dataset: string, names: readonly string[], options: { manyPerCall: boolean }): Promise<DestroyOutcome> {
  const outcome: DestroyOutcome = { destroyed: [], busy: [] };
  for (const argv of destroySnapshotsArgs(dataset, names, options)) {
    const batch = argv[1]!.slice(argv[1]!.indexOf('@') + 1).split(',');
    const result = await zfs.run(argv, { allowFailure: true });
    if (result.exitCode === 0) {
      outcome.destroyed.push(...batch);
      continue;
    }
    const { code } = classifyZfsError(result.stderr);
    if (code === 'DATASET_BUSY') outcome.busy.push(...batch);
    else outcome.error ??= { code, message: `zfs ${argv.join(' ')}: ${result.stderr.trim().split('\n')[0] ?? `exit ${result.exitCode}`}` };
  }
  return outcome;
}
