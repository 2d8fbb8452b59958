import type { SnapshotInfo, SnapshotName } from '@zfs-fleet/protocol';
import { describe, expect, it } from 'vitest';
import type { ExportSummary } from './export-chains.ts';
import { exportBases, planExport } from './plan-export.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-10T00:00:00Z');
const snap = (name: string, txg: number): SnapshotInfo => ({ name: name as SnapshotName, guid: `${txg}000`, createtxg: txg, createdAt: NOW - (10 - txg) * DAY });
const s1 = snap('s1', 1);
const s2 = snap('s2', 2);
const s3 = snap('s3', 3);
const s4 = snap('s4', 4);
const full = (id: string, snapshot: SnapshotInfo, daysAgo: number): ExportSummary => ({ exportId: id, kind: 'full', createdAt: new Date(NOW - daysAgo * DAY).toISOString(), snapshot: { name: snapshot.name, guid: snapshot.guid } });
const incr = (id: string, snapshot: SnapshotInfo, base: ExportSummary, daysAgo: number): ExportSummary => ({
  exportId: id,
  kind: 'incremental',
  createdAt: new Date(NOW - daysAgo * DAY).toISOString(),
  snapshot: { name: snapshot.name, guid: snapshot.guid },
  base: { name: base.snapshot.name, guid: base.snapshot.guid, exportId: base.exportId },
});

const f1 = full('e1', s1, 3);
const i2 = incr('e2', s2, f1, 2);
const i3 = incr('e3', s3, i2, 1);

describe('planExport', () => {
  const cases: Array<{ title: string; snapshots: SnapshotInfo[]; exports: ExportSummary[]; incremental?: 'differential' | 'chained'; fullEveryDays?: number; forceFull?: boolean; expected: Record<string, unknown> }> = [
    { title: 'a target with no export of the dataset gets a full, because there is none yet', snapshots: [s1], exports: [], expected: { kind: 'full', reason: 'none yet' } },
    { title: 'a dataset without snapshots is blocked', snapshots: [], exports: [], expected: { kind: 'blocked' } },
    { title: 'the newest snapshot already exported is up to date', snapshots: [s1, s2], exports: [f1, i2], expected: { kind: 'up-to-date', exportId: 'e2' } },
    { title: 'a differential incremental starts from the last full', snapshots: [s1, s2, s3], exports: [f1, i2], expected: { kind: 'incremental', base: { name: 's1', guid: s1.guid, exportId: 'e1' }, mode: 'differential' } },
    { title: 'a chained incremental starts from the previous export', snapshots: [s1, s2, s3], exports: [f1, i2], incremental: 'chained', expected: { kind: 'incremental', base: { name: 's2', guid: s2.guid, exportId: 'e2' }, mode: 'chained' } },
    { title: 'a full once fullEvery has passed since the last full', snapshots: [s1, s2], exports: [f1], fullEveryDays: 3, expected: { kind: 'full', reason: 'fullEvery passed' } },
    { title: 'an incremental while fullEvery has not passed', snapshots: [s1, s2], exports: [f1], fullEveryDays: 4, expected: { kind: 'incremental', base: { exportId: 'e1' } } },
    { title: 'a full when the differential base is gone on the source', snapshots: [s2, s3], exports: [f1, i2], expected: { kind: 'full', reason: 'base gone' } },
    { title: 'a full when the chained base is gone on the source', snapshots: [s1, s4], exports: [f1, i2, i3], incremental: 'chained', expected: { kind: 'full', reason: 'base gone' } },
    { title: 'a base renamed on the source is still found by guid', snapshots: [{ ...s1, name: 'renamed' as SnapshotName }, s2], exports: [f1], expected: { kind: 'incremental', base: { name: 'renamed', exportId: 'e1' } } },
    { title: '--force-full sends a full even when up to date', snapshots: [s1], exports: [f1], forceFull: true, expected: { kind: 'full', reason: 'forced' } },
    { title: 'an incremental whose base export is gone is ignored: chained from what is left', snapshots: [s1, s2, s3, s4], exports: [f1, i3], incremental: 'chained', expected: { kind: 'incremental', base: { exportId: 'e1' } } },
    { title: 'a target whose only full was deleted gets a full although incrementals remain', snapshots: [s1, s2, s3], exports: [i2], expected: { kind: 'full', reason: 'none yet' } },
  ];
  for (const testCase of cases) {
    it(testCase.title, () => {
      const step = planExport({ snapshots: testCase.snapshots, exports: testCase.exports, fullEveryMs: (testCase.fullEveryDays ?? 7) * DAY, incremental: testCase.incremental ?? 'differential', nowMs: NOW, forceFull: testCase.forceFull === true });
      expect(step).toMatchObject(testCase.expected);
    });
  }

  it('exports a chosen snapshot instead of the newest', () => {
    expect(planExport({ snapshots: [s1, s2, s3], exports: [f1], fullEveryMs: 7 * DAY, incremental: 'differential', nowMs: NOW, forceFull: false, snapshot: 's2' })).toMatchObject({ kind: 'incremental', snapshot: { name: 's2' } });
  });
});

describe('exportBases', () => {
  it('protects the last full for differential exports and the previous export for chained ones', () => {
    expect(exportBases([f1, i2, i3], 'differential', 'nas').map((base) => base.name)).toEqual(['s1']);
    expect(exportBases([f1, i2, i3], 'chained', 'nas').map((base) => base.name)).toEqual(['s3']);
    expect(exportBases([], 'chained', 'nas')).toEqual([]);
  });
});
