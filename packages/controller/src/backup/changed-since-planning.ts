import { isWithin, FleetError, type DatasetTree } from '@zfs-fleet/protocol';
import type { SendableStep } from './execute-plan.ts';

/**
 * Pure: whether a step's destination changed on the peer between planning and sending, from
 * the tree the plan was made on and one listed just before the stream. A snapshot that
 * appeared there (someone's `zfs snapshot`, another tool's receive) or a base that went would
 * make the stream land on something the plan never saw: zfs-fuse even receives an incremental
 * on top of a snapshot taken after its base. Undefined when the destination is as planned.
 * Resumed streams continue zfs's own partial state and are not checked.
 */
export function changedSincePlanning(step: SendableStep, planned: DatasetTree, fresh: DatasetTree): FleetError | undefined {
  if (step.kind === 'resume') return undefined;
  const within = (tree: DatasetTree) => tree.datasets.filter((dataset) => (step.recursive ? isWithin(dataset.name, step.destination) : dataset.name === step.destination));
  const plannedGuids = new Set(within(planned).flatMap((dataset) => dataset.snapshots.map((snapshot) => snapshot.guid)));
  const now = within(fresh);
  const details = { destination: step.destination, phase: 'replicate' };
  const added = now.flatMap((dataset) => dataset.snapshots.filter((snapshot) => !plannedGuids.has(snapshot.guid)).map((snapshot) => `${dataset.name}@${snapshot.name}`));
  if (added.length > 0) {
    return new FleetError('DESTINATION_AHEAD', `"${step.destination}" gained ${added.map((name) => `"${name}"`).join(', ')} after this run planned its stream; nothing was sent to it.`, {
      hint: 'Find out who takes snapshots on the backup copy; the next run plans from what is there (and blocks until --force rolls them back).',
      details: { ...details, snapshots: added },
    });
  }
  if (step.kind === 'incremental' && !now.some((dataset) => dataset.name === step.destination && dataset.snapshots.some((snapshot) => snapshot.guid === step.from.guid))) {
    return new FleetError('BASE_MISSING', `"${step.destination}@${step.from.name}", the base of this run's stream, was destroyed on the peer after planning; nothing was sent to it.`, {
      hint: 'The next run plans from the snapshots that are left.',
      details: { ...details, base: step.from.name },
    });
  }
  if (step.kind === 'full' && !within(planned).some((dataset) => dataset.name === step.destination) && now.some((dataset) => dataset.name === step.destination)) {
    return new FleetError('DESTINATION_NOT_EMPTY', `"${step.destination}" was created on the peer after this run planned a full stream into it; nothing was sent to it.`, {
      hint: 'Find out what created it; the next run plans from what is there.',
      details,
    });
  }
  return undefined;
}
