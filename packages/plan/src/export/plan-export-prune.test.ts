import { describe, expect, it } from 'vitest';
import type { ExportSummary } from './export-chains.ts';
import { chainTo } from './export-chains.ts';
import { planExportPrune } from './plan-export-prune.ts';

let txg = 0;
const full = (id: string): ExportSummary => ({ exportId: id, kind: 'full', createdAt: '2026-12-01T00:00:00Z', snapshot: { name: `s-${id}`, guid: String(++txg) } });
const incr = (id: string, base: ExportSummary): ExportSummary => ({ exportId: id, kind: 'incremental', createdAt: '2026-12-01T00:00:00Z', snapshot: { name: `s-${id}`, guid: String(++txg) }, base: { name: base.snapshot.name, guid: base.snapshot.guid, exportId: base.exportId } });

// Differential chains: A ← a1, a2; B ← b1; C ← c1 ← c2 (chained).
const A = full('e01');
const a1 = incr('e02', A);
const a2 = incr('e03', A);
const B = full('e04');
const b1 = incr('e05', B);
const C = full('e06');
const c1 = incr('e07', C);
const c2 = incr('e08', c1);
const all = [A, a1, a2, B, b1, C, c1, c2];

const kept = (exports: ExportSummary[], fulls: number) =>
  planExportPrune(exports, fulls)
    .filter((decision) => decision.action === 'keep')
    .map((decision) => decision.exportId);

describe('planExportPrune', () => {
  const cases: Array<{ title: string; exports: ExportSummary[]; fulls: number; keep: string[] }> = [
    { title: 'keeps the newest two chains whole and deletes the oldest chain whole', exports: all, fulls: 2, keep: ['e04', 'e05', 'e06', 'e07', 'e08'] },
    { title: 'keeps only the newest chain with keep.fulls 1, its chained incrementals included', exports: all, fulls: 1, keep: ['e06', 'e07', 'e08'] },
    { title: 'keeps everything when there are fewer fulls than keep.fulls', exports: all, fulls: 5, keep: all.map((e) => e.exportId) },
    { title: 'never deletes a full a kept incremental needs, whatever the order of the list', exports: [c2, a1, C, B, c1, A, b1, a2], fulls: 1, keep: ['e06', 'e07', 'e08'] },
    { title: 'an incremental whose base export is gone and that is older than every kept full is deleted', exports: [a1, B, b1], fulls: 1, keep: ['e04', 'e05'] },
    { title: 'a broken incremental newer than the oldest kept full is kept', exports: [A, B, incr('e09', full('e00'))], fulls: 1, keep: ['e04', 'e09'] },
    { title: 'a chained incremental whose middle export is gone breaks the rest of that chain only', exports: [C, c2, B, b1], fulls: 1, keep: ['e06', 'e08'] },
  ];
  for (const testCase of cases) {
    it(testCase.title, () => {
      expect(kept(testCase.exports, testCase.fulls).sort()).toEqual([...testCase.keep].sort());
    });
  }

  it('no kept export names a base export that is deleted', () => {
    for (const fulls of [1, 2, 3]) {
      const decisions = planExportPrune(all, fulls);
      const keptIds = new Set(decisions.filter((d) => d.action === 'keep').map((d) => d.exportId));
      for (const summary of all.filter((e) => keptIds.has(e.exportId) && e.base)) expect(keptIds.has(summary.base!.exportId)).toBe(true);
    }
  });
});

describe('chainTo', () => {
  it('lists the full then the incrementals in order, or nothing for a broken chain', () => {
    expect(chainTo(all, 'e08')?.map((e) => e.exportId)).toEqual(['e06', 'e07', 'e08']);
    expect(chainTo(all, 'e03')?.map((e) => e.exportId)).toEqual(['e01', 'e03']);
    expect(chainTo([C, c2], 'e08')).toBeUndefined();
  });
});
