import { isWithin, type DatasetInfo, type DatasetName } from '@zfs-fleet/protocol';
import { formatSnapshotNames } from './snapshot-ref.ts';
import type { ReplicationStep } from './steps.ts';

/**
 * One `zfs send -R` replaces a tree's per-dataset streams when they are all alike: every
 * dataset new on the peer, or every dataset incremental from the same base to the same
 * target with nothing to roll back. Received with `-F`, an `-R` stream also deletes on the
 * peer what the source deleted, so it gets `-F` only when the entry asked to mirror deletions.
 * Steps with warnings stay per dataset, where each warning keeps its dataset.
 */
export function collapseTree(steps: readonly ReplicationStep[], options: { mirrorDeletions: boolean }): ReplicationStep | undefined {
  const [root] = steps;
  if (!root || steps.length < 2 || steps.some((step) => step.warnings?.length)) return undefined;
  if (root.kind === 'full' && steps.every((step) => step.kind === 'full' && !step.force && !step.replace && step.to.name === root.to.name)) {
    return { ...root, recursive: true };
  }
  if (root.kind === 'incremental' && steps.every((step) => step.kind === 'incremental' && !step.force && step.rollback.length === 0 && step.from.name === root.from.name && step.to.name === root.to.name)) {
    return { ...root, recursive: true, force: options.mirrorDeletions };
  }
  return undefined;
}

/**
 * What `recv -F` of an `-R` stream deletes below `destinationRoot`: destination snapshots the
 * source no longer has, and destination datasets whose source is gone. The plan lists them
 * because the user asked for deletions in general, not for these in particular.
 */
export function describeMirroredDeletions(sources: readonly DatasetInfo[], destinations: readonly DatasetInfo[], destinationRoot: DatasetName, destinationOf: (dataset: DatasetName) => DatasetName): string[] {
  const sourceByDestination = new Map(sources.map((source) => [destinationOf(source.name), source]));
  const lines: string[] = [];
  for (const destination of destinations.filter((dataset) => isWithin(dataset.name, destinationRoot))) {
    const source = sourceByDestination.get(destination.name);
    if (!source) {
      lines.push(`mirroring deletions: receiving with -F destroys "${destination.name}", which the source no longer has.`);
      continue;
    }
    const sourceGuids = new Set(source.snapshots.map((snapshot) => snapshot.guid));
    const gone = destination.snapshots.filter((snapshot) => !sourceGuids.has(snapshot.guid));
    if (gone.length > 0) lines.push(`mirroring deletions: receiving with -F destroys ${formatSnapshotNames(gone)} on "${destination.name}", which the source no longer has.`);
  }
  return lines;
}
