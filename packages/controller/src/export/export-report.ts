import type { FleetErrorShape } from '@zfs-fleet/protocol';

/** One entry's dataset to one export target: what was (or would be) exported. */
export interface ExportUnitReport {
  host: string;
  dataset: string;
  target: string;
  status: 'ok' | 'up-to-date' | 'planned' | 'blocked' | 'failed';
  action?: 'full' | 'incremental' | 'up-to-date' | 'blocked';
  /** Why a full (none yet, fullEvery passed, base gone, forced), or why blocked. */
  reason?: string;
  snapshot?: string;
  exportId?: string;
  /** Incrementals: the base snapshot and the export that carries it. */
  base?: { snapshot: string; exportId: string };
  mode?: 'differential' | 'chained';
  streamBytes?: number;
  storedBytes?: number;
  chunks?: number;
  durationMs?: number;
  error?: FleetErrorShape;
}

/** One entry's exports on one target after `keep.fulls`. */
export interface ExportPruneReport {
  host: string;
  dataset: string;
  target: string;
  status: 'ok' | 'planned' | 'skipped' | 'failed';
  keepFulls?: number;
  kept: string[];
  deleted: Array<{ exportId: string; reason: string }>;
  error?: FleetErrorShape;
}

export function isExportSuccessful(report: { status: string }): boolean {
  return report.status !== 'failed' && report.status !== 'blocked';
}
