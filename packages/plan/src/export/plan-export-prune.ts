import { byExportId, chainRoots, type ExportSummary } from './export-chains.ts';

export interface ExportPruneDecision {
  exportId: string;
  action: 'keep' | 'delete';
  reason: string;
}

/**
 * Pure: which exports `keep.fulls` keeps. The newest N fulls stay with every export whose chain
 * starts at one of them; an older chain goes whole. An export whose chain is broken (its base
 * export is gone) restores nothing: it goes when it is older than the oldest kept full, and
 * stays otherwise (it may be the work of a run still going).
 */
export function planExportPrune(exports: readonly ExportSummary[], keepFulls: number): ExportPruneDecision[] {
  const roots = chainRoots(exports);
  const sorted = [...exports].sort(byExportId);
  const kept = new Set(
    sorted
      .filter((summary) => summary.kind === 'full')
      .slice(-keepFulls)
      .map((summary) => summary.exportId),
  );
  const oldestKept = [...kept].sort()[0];
  return sorted.map((summary) => {
    const root = roots.get(summary.exportId);
    if (root && kept.has(root)) return { exportId: summary.exportId, action: 'keep', reason: summary.kind === 'full' ? `one of the newest ${keepFulls} full(s)` : `needed by the chain of full ${root}` };
    if (root) return { exportId: summary.exportId, action: 'delete', reason: `its chain (full ${root}) is older than the newest ${keepFulls} full(s)` };
    if (oldestKept !== undefined && summary.exportId < oldestKept) return { exportId: summary.exportId, action: 'delete', reason: 'its chain is broken (a base export is gone) and it is older than every kept full' };
    return { exportId: summary.exportId, action: 'keep', reason: 'its chain is broken, but it is newer than the oldest kept full' };
  });
}
