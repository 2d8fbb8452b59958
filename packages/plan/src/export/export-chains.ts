/** What planning and pruning need of a manifest: small, so tables of cases stay readable. */
export interface ExportSummary {
  exportId: string;
  kind: 'full' | 'incremental';
  /** ISO time the export was committed. */
  createdAt: string;
  snapshot: { name: string; guid: string };
  base?: { name: string; guid: string; exportId: string };
}

/**
 * The full each export's chain starts from, by exportId: follows `base.exportId` back to a full.
 * Exports whose chain breaks (a base export that is not there) are absent: nothing can restore them.
 */
export function chainRoots(exports: readonly ExportSummary[]): Map<string, string> {
  const byId = new Map(exports.map((summary) => [summary.exportId, summary]));
  const roots = new Map<string, string>();
  const rootOf = (summary: ExportSummary, seen: Set<string>): string | undefined => {
    if (summary.kind === 'full') return summary.exportId;
    const known = roots.get(summary.exportId);
    if (known) return known;
    const base = summary.base ? byId.get(summary.base.exportId) : undefined;
    if (!base || seen.has(base.exportId) || base.snapshot.guid !== summary.base!.guid) return undefined;
    seen.add(base.exportId);
    return rootOf(base, seen);
  };
  for (const summary of exports) {
    const root = rootOf(summary, new Set([summary.exportId]));
    if (root) roots.set(summary.exportId, root);
  }
  return roots;
}

/** The exports a restore of `exportId` receives, full first; undefined when its chain is broken. */
export function chainTo<T extends ExportSummary>(exports: readonly T[], exportId: string): T[] | undefined {
  const byId = new Map(exports.map((summary) => [summary.exportId, summary]));
  const chain: T[] = [];
  let current = byId.get(exportId);
  while (current) {
    chain.unshift(current);
    if (current.kind === 'full') return chain;
    if (!current.base || chain.length > exports.length) return undefined;
    const base = byId.get(current.base.exportId);
    if (!base || base.snapshot.guid !== current.base.guid) return undefined;
    current = base;
  }
  return undefined;
}

export function byExportId(a: ExportSummary, b: ExportSummary): number {
  return a.exportId.localeCompare(b.exportId);
}
