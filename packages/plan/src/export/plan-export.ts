import type { SnapshotInfo } from '@zfs-fleet/protocol';
import { byExportId, chainRoots, type ExportSummary } from './export-chains.ts';

export type FullReason = 'none yet' | 'fullEvery passed' | 'base gone' | 'forced';

export type ExportStep =
  | { kind: 'full'; snapshot: SnapshotInfo; reason: FullReason; detail: string }
  | { kind: 'incremental'; snapshot: SnapshotInfo; base: { name: string; guid: string; exportId: string }; mode: 'differential' | 'chained' }
  | { kind: 'up-to-date'; snapshot: SnapshotInfo; exportId: string }
  | { kind: 'blocked'; reason: string };

export interface ExportPlanInput {
  /** The source dataset's snapshots, oldest first. */
  snapshots: readonly SnapshotInfo[];
  /** The target's committed exports of the dataset (any order). */
  exports: readonly ExportSummary[];
  fullEveryMs: number;
  incremental: 'differential' | 'chained';
  nowMs: number;
  forceFull: boolean;
  /** Export this snapshot; default: the newest. */
  snapshot?: string;
}

/**
 * Pure: what one entry's dataset sends to one target. A full when the target has none, when
 * `fullEvery` has passed since the last one, or when the base an incremental needs is gone on
 * the source (by guid); else an incremental from the last full (differential) or from the
 * previous export (chained); nothing when the target already has the snapshot.
 */
export function planExport(input: ExportPlanInput): ExportStep {
  const snapshot = input.snapshot ? input.snapshots.find((candidate) => candidate.name === input.snapshot) : input.snapshots.at(-1);
  if (!snapshot) return { kind: 'blocked', reason: input.snapshot ? `snapshot "${input.snapshot}" does not exist on the source` : 'the dataset has no snapshot to export' };
  const roots = chainRoots(input.exports);
  // Only exports a restore could use count: a broken chain is as good as none.
  const usable = input.exports.filter((summary) => roots.has(summary.exportId)).sort(byExportId);
  const done = usable.find((summary) => summary.snapshot.guid === snapshot.guid);
  if (done && !input.forceFull) return { kind: 'up-to-date', snapshot, exportId: done.exportId };
  if (input.forceFull) return { kind: 'full', snapshot, reason: 'forced', detail: '--force-full' };
  const lastFull = usable.filter((summary) => summary.kind === 'full').at(-1);
  if (!lastFull) return { kind: 'full', snapshot, reason: 'none yet', detail: 'the target has no full export of this dataset' };
  const ageMs = input.nowMs - Date.parse(lastFull.createdAt);
  if (ageMs >= input.fullEveryMs) return { kind: 'full', snapshot, reason: 'fullEvery passed', detail: `the last full (${lastFull.exportId}) is older than fullEvery` };
  const base = input.incremental === 'differential' ? lastFull : usable.filter((summary) => roots.get(summary.exportId) === lastFull.exportId).at(-1)!;
  const onSource = input.snapshots.find((candidate) => candidate.guid === base.snapshot.guid);
  if (!onSource) return { kind: 'full', snapshot, reason: 'base gone', detail: `the base snapshot "${base.snapshot.name}" (export ${base.exportId}) no longer exists on the source` };
  if (onSource.createtxg >= snapshot.createtxg) return { kind: 'blocked', reason: `the target's newest export (${base.exportId}, "${base.snapshot.name}") is not older than "${snapshot.name}"` };
  return { kind: 'incremental', snapshot, base: { name: onSource.name, guid: onSource.guid, exportId: base.exportId }, mode: input.incremental };
}

/**
 * Snapshots of the source that the next incremental to a target needs as its base, with why:
 * pruning on the source must keep them (`exportProtections` of planPrune).
 */
export function exportBases(exports: readonly ExportSummary[], incremental: 'differential' | 'chained', target: string): Array<{ name: string; guid: string; reason: string }> {
  const roots = chainRoots(exports);
  const usable = exports.filter((summary) => roots.has(summary.exportId)).sort(byExportId);
  const lastFull = usable.filter((summary) => summary.kind === 'full').at(-1);
  if (!lastFull) return [];
  const base = incremental === 'differential' ? lastFull : usable.filter((summary) => roots.get(summary.exportId) === lastFull.exportId).at(-1)!;
  return [{ name: base.snapshot.name, guid: base.snapshot.guid, reason: `base of the next ${incremental} export to target "${target}" (export ${base.exportId})` }];
}
