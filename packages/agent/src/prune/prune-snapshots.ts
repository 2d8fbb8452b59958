import { toFleetError, type PruneSnapshotsOutput, type ZfsCapabilities } from '@zfs-fleet/protocol';
import { destroySnapshots, listTree, type ZfsExec } from '@zfs-fleet/zfs';
import type { z } from 'zod';
import type { PruneSnapshotsInputSchema } from '@zfs-fleet/protocol';
import type pino from 'pino';

type PruneInput = z.infer<typeof PruneSnapshotsInputSchema>;

/**
 * Destroys what the controller's prune plan listed, guarded: one `zfs get` over all the
 * datasets first, and a snapshot is destroyed only if it still has the planned guid and no hold
 * (anyone's). Then the batched destroys: one call per dataset where zfs takes lists. The zfs
 * calls do not grow with the number of snapshots (except on zfs that lacks lists).
 */
export async function pruneSnapshots(zfs: ZfsExec, capabilities: ZfsCapabilities, input: PruneInput, logger: pino.Logger): Promise<PruneSnapshotsOutput> {
  const before = zfs.calls().total;
  const { tree } = await listTree(
    zfs,
    input.datasets.map((entry) => entry.dataset),
    capabilities,
    { holds: true },
  );
  const datasets: PruneSnapshotsOutput['datasets'] = [];
  for (const entry of input.datasets) {
    const actual = tree.datasets.find((dataset) => dataset.name === entry.dataset);
    const skipped: Array<{ name: string; reason: string }> = [];
    const names: string[] = [];
    for (const wanted of entry.snapshots) {
      const snapshot = actual?.snapshots.find((candidate) => candidate.name === wanted.name);
      if (!snapshot) skipped.push({ name: wanted.name, reason: 'gone already' });
      else if (snapshot.guid !== wanted.guid) skipped.push({ name: wanted.name, reason: `guid is ${snapshot.guid}, not the planned ${wanted.guid}: another snapshot under that name` });
      else if ((snapshot.holds ?? 0) > 0) skipped.push({ name: wanted.name, reason: `held (${snapshot.holds} zfs hold${snapshot.holds === 1 ? '' : 's'}) since planning` });
      else names.push(wanted.name);
    }
    try {
      const outcome = await destroySnapshots(zfs, entry.dataset, names, { manyPerCall: capabilities.destroyMany });
      for (const name of outcome.busy) skipped.push({ name, reason: 'busy: zfs says something uses it (a send, a clone, a hold)' });
      datasets.push({ dataset: entry.dataset, destroyed: outcome.destroyed, skipped, ...(outcome.error ? { error: { code: outcome.error.code, message: outcome.error.message } } : {}) });
      logger.info({ dataset: entry.dataset, destroyed: outcome.destroyed.length, skipped: skipped.length }, 'snapshots pruned');
    } catch (error) {
      datasets.push({ dataset: entry.dataset, destroyed: [], skipped, error: toFleetError(error).toShape() });
    }
  }
  return { datasets, zfsCalls: zfs.calls().total - before };
}
