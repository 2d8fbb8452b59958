import { formatBytes, type DatasetInfo, type DatasetName, type SnapshotInfo } from '@zfs-fleet/protocol';
import { newestCommonSnapshot } from './newest-common-snapshot.ts';
import { formatSnapshotNames, sortByCreatetxg, toSnapshotRef } from './snapshot-ref.ts';
import { blockedStep, withWarnings, type PlanInput, type ReplicationStep, type SnapshotRef } from './steps.ts';

type Where = { dataset: DatasetName; destination: DatasetName };
type Options = Pick<PlanInput, 'target' | 'forceFull' | 'force' | 'base' | 'resumeTokens'>;

/**
 * What one dataset needs, ignoring its neighbours in the tree. A step destroys destination
 * data only when `force` was given, and then lists what it destroys.
 */
export function planDataset(source: DatasetInfo, destination: DatasetInfo | undefined, where: Where, options: Options): ReplicationStep {
  const snapshots = sortByCreatetxg(source.snapshots);
  if (snapshots.length === 0) {
    return blockedStep(where, 'SNAPSHOT_NOT_FOUND', `"${source.name}" has no snapshots; take one first.`);
  }
  const choice = options.target;
  const target = choice.kind === 'latest' ? snapshots.at(-1)! : snapshots.find((snapshot) => snapshot.name === choice.name);
  if (!target) {
    const name = choice.kind === 'snapshot' ? choice.name : '';
    return blockedStep(where, 'SNAPSHOT_NOT_FOUND', `"${source.name}@${name}" does not exist on the source host (a dataset created after that snapshot was taken does not have it).`, {
      snapshot: name,
    });
  }
  const to = toSnapshotRef(target);
  if (!destination) return { ...where, kind: 'full', recursive: false, to, force: false, ...historyOf(snapshots, target) };

  // An interrupted receive comes first: finishing it keeps what was already sent, and a new
  // receive would fail until it is resumed or aborted. The next run continues from there.
  if (destination.resumeToken) {
    const token = destination.resumeToken;
    const info = options.resumeTokens?.find((candidate) => candidate.token === token);
    if (!info) return { ...where, kind: 'resume', token };
    const resumedTo = source.snapshots.find((snapshot) => snapshot.guid === info.toGuid);
    if (resumedTo) {
      const resumedFrom = info.fromGuid ? source.snapshots.find((snapshot) => snapshot.guid === info.fromGuid) : undefined;
      return { ...where, kind: 'resume', token, to: toSnapshotRef(resumedTo), ...(resumedFrom ? { from: toSnapshotRef(resumedFrom) } : {}) };
    }
    // The snapshot it was receiving is gone (pruned, destroyed by hand): resuming can only
    // fail. Abort the partial state, which keeps every snapshot already received (an
    // interrupted full receive leaves nothing else), and plan as if it had never started.
    const snapshot = info.toName.includes('@') ? info.toName.slice(info.toName.indexOf('@') + 1) : info.toName;
    const { resumeToken: _aborted, ...remaining } = destination;
    const step = planDataset(source, info.fromGuid ? remaining : undefined, where, options);
    const note = `the interrupted receive of @${snapshot} into "${where.destination}" cannot be resumed: @${snapshot} no longer exists on the source. Its partial state is aborted (zfs recv -A; received snapshots stay)${step.kind === 'blocked' ? ' once this dataset is no longer blocked' : ''}.`;
    return withWarnings(step.kind === 'blocked' ? step : { ...step, abortPartialReceive: { token, snapshot } }, [note]);
  }
  const warnings: string[] = [];
  const candidates = snapshots.filter((snapshot) => snapshot.createtxg <= target.createtxg);
  const { common, collisions } = newestCommonSnapshot(candidates, destination.snapshots);
  warnings.push(...collisions.map((name) => `@${name} exists on both sides with different guids (different data); it is not used as a base.`));

  let base = options.forceFull ? undefined : common;
  if (options.base !== undefined && !options.forceFull) {
    const chosen = candidates.find((snapshot) => snapshot.name === options.base);
    if (!chosen || !destination.snapshots.some((snapshot) => snapshot.guid === chosen.guid)) {
      return withWarnings(
        blockedStep(where, 'BASE_MISSING', `@${options.base} is not a snapshot both "${source.name}" and "${where.destination}" hold (matched by guid) up to @${target.name}; it cannot be the base.`, {
          base: options.base,
        }),
        warnings,
      );
    }
    base = chosen;
  }
  const step = base ? planFromBase(base, to, candidates, destination, where, options) : planWithoutBase(to, destination, where, { ...options, hadBase: common !== undefined, history: historyOf(snapshots, target) });
  return withWarnings(step, warnings);
}

/** The destination shares `base` with the source. */
function planFromBase(base: SnapshotInfo, to: SnapshotRef, candidates: readonly SnapshotInfo[], destination: DatasetInfo, where: Where, options: Options): ReplicationStep {
  // Newer on the destination's own timeline: its txgs are not comparable to the source's.
  const baseOnDestination = destination.snapshots.find((snapshot) => snapshot.guid === base.guid)!;
  const ahead = sortByCreatetxg(destination.snapshots.filter((snapshot) => snapshot.createtxg > baseOnDestination.createtxg)).map(toSnapshotRef);

  if (base.guid === to.guid) {
    const step: ReplicationStep = { ...where, kind: 'up-to-date', at: to };
    return withWarnings(step, ahead.length > 0 ? [`"${where.destination}" has snapshots newer than @${to.name}: ${formatSnapshotNames(ahead)}; left alone.`] : []);
  }
  if (ahead.length > 0 && !options.force) {
    return blockedStep(where, 'DESTINATION_AHEAD', `"${where.destination}" has snapshots newer than the common base @${base.name}: ${formatSnapshotNames(ahead)}. --force would roll back (destroy) them.`, { base: base.name, snapshots: ahead.map((snapshot) => snapshot.name) });
  }
  const conflicts = nameConflicts(
    candidates.filter((snapshot) => snapshot.createtxg > base.createtxg),
    destination,
    ahead,
  );
  if (conflicts.length > 0 && !options.force) {
    return blockedStep(
      where,
      'SNAPSHOT_NAME_CONFLICT',
      `"${where.destination}" already has ${formatSnapshotNames(conflicts)} with other data (another guid) than the source's snapshot of that name, which the incremental from @${base.name} would deliver; zfs refuses to receive over it. --force would destroy ${conflicts.length === 1 ? 'that copy' : 'those copies'} on the destination.`,
      { base: base.name, snapshots: conflicts.map((snapshot) => snapshot.name) },
    );
  }
  // --force also means -F with nothing ahead: it is the remedy for a destination modified since its last snapshot.
  return { ...where, kind: 'incremental', recursive: false, from: toSnapshotRef(base), to, force: ahead.length > 0 || options.force, rollback: ahead, ...(conflicts.length > 0 ? { conflicting: conflicts } : {}) };
}

/**
 * Snapshots the incremental would deliver (source, after the base up to the target) whose names
 * the destination already uses for other data (another guid) and keeps (not rolled back): zfs
 * fails the whole receive on them ("destination already exists"). A name reused on the source
 * after its snapshot was destroyed and taken again does this.
 */
function nameConflicts(delivered: readonly SnapshotInfo[], destination: DatasetInfo, ahead: readonly SnapshotRef[]): SnapshotRef[] {
  const rolledBack = new Set(ahead.map((snapshot) => snapshot.guid));
  const copies = new Map(destination.snapshots.map((snapshot) => [snapshot.name, snapshot]));
  return delivered.flatMap((snapshot) => {
    const copy = copies.get(snapshot.name);
    return copy && copy.guid !== snapshot.guid && !rolledBack.has(copy.guid) ? [toSnapshotRef(copy)] : [];
  });
}

/** No usable base: only a full stream will do, and it may have to replace the destination. */
function planWithoutBase(to: SnapshotRef, destination: DatasetInfo, where: Where, options: Options & { hadBase: boolean; history: { history?: SnapshotRef } }): ReplicationStep {
  if (destination.snapshots.length === 0 && destination.createdByFleet === true) {
    // Nothing of a user's there: zfs-fleet created it (a parent of copies) and nothing was
    // received into it yet. Its children are other datasets: a full stream without -R leaves them.
    return { ...where, kind: 'full', recursive: false, to, force: true, ...options.history };
  }
  const existing = sortByCreatetxg(destination.snapshots).map(toSnapshotRef);
  if (options.force) {
    return { ...where, kind: 'full', recursive: false, to, force: true, replace: { snapshotsToDestroy: existing, referencedBytes: destination.referencedBytes }, ...options.history };
  }
  const holds = `${existing.length} snapshot(s) and ${formatBytes(destination.referencedBytes)} of data`;
  const destroys = existing.length > 0 ? `destroy its snapshots ${formatSnapshotNames(existing)} and replace its data` : 'replace its data';
  const details = { snapshots: existing.map((snapshot) => snapshot.name), referencedBytes: destination.referencedBytes };
  if (options.hadBase) {
    return blockedStep(where, 'DESTINATION_NOT_EMPTY', `--force-full needs to replace "${where.destination}", which holds ${holds}. --force would ${destroys}.`, details);
  }
  if (existing.length > 0) {
    return blockedStep(where, 'NO_COMMON_SNAPSHOT', `"${where.destination}" exists with ${holds}, but shares no snapshot with the source. --force would ${destroys}.`, details);
  }
  // Size proves nothing (a few config files are small): only a dataset zfs-fleet made is known to be empty.
  return blockedStep(where, 'DESTINATION_NOT_EMPTY', `"${where.destination}" exists with no snapshots and was not created by zfs-fleet; it references ${formatBytes(destination.referencedBytes)}. --force would ${destroys}.`, details);
}

/**
 * A full stream carries one snapshot. For a backup the history is the point, so a dataset new
 * on the destination (or replaced) gets its oldest snapshot in full and then `-I` up to the
 * target, the way `-R` sends a tree.
 */
function historyOf(snapshots: readonly SnapshotInfo[], target: SnapshotInfo): { history?: SnapshotRef } {
  const oldest = snapshots[0]!;
  return oldest.guid === target.guid ? {} : { history: toSnapshotRef(oldest) };
}
