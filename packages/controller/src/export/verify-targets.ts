import { type ChunkProblem, type FleetConfig, type FleetErrorShape, type IncompleteExport, toFleetErrorFromClient } from '@zfs-fleet/protocol';
import { selectDatasets } from '@zfs-fleet/plan';
import type { Sessions } from '../run/gather-trees.ts';
import { listExportUnits, targetRef } from './export-units.ts';

/** An export folder without a manifest is a run in progress for this long; after it, a crash's leftovers. */
export const INCOMPLETE_AFTER_MS = 86_400_000;

/** One entry's dataset on one export target, as `fleet verify` found it. */
export interface ExportVerifyRow {
  host: string;
  dataset: string;
  target: string;
  status: 'ok' | 'damaged' | 'unreachable';
  exports: number;
  chunks: number;
  hashed: number;
  problems: ChunkProblem[];
  /** Folders without a manifest older than a day (warnings: verify does not fail on them). */
  incomplete: IncompleteExport[];
  unreadable: Array<{ key: string; reason: string }>;
  error?: FleetErrorShape;
}

/** Multipart uploads never completed on one target (object stores only), and what `--cleanup` aborted. */
export interface IncompleteUploadsRow {
  host: string;
  target: string;
  found: Array<{ key: string; uploadId: string; initiatedAt: string }>;
  aborted: string[];
  error?: FleetErrorShape;
}

/** Per (host, target): the incomplete uploads below the host's folder; with `cleanup`, aborted. Never throws. */
export async function checkIncompleteUploads(config: FleetConfig, options: { hosts: readonly string[]; cleanup: boolean; now: Date; target?: string }, sessions: Sessions): Promise<IncompleteUploadsRow[]> {
  const seen = new Set<string>();
  const units = listExportUnits(config, { hosts: options.hosts }).filter((unit) => (!options.target || unit.target === options.target) && !seen.has(`${unit.host} ${unit.target}`) && seen.add(`${unit.host} ${unit.target}`));
  const rows: IncompleteUploadsRow[] = [];
  for (const unit of units.filter((candidate) => candidate.targetConfig.type === 's3')) {
    try {
      const session = await sessions.get(unit.host);
      const result = await session.agent.exports.incompleteUploads.mutate({ target: targetRef(unit), host: unit.host, ...(options.cleanup ? { abortBefore: options.now.toISOString() } : {}) });
      if (result.found.length > 0) rows.push({ host: unit.host, target: unit.target, ...result });
    } catch (error) {
      rows.push({ host: unit.host, target: unit.target, found: [], aborted: [], error: toFleetErrorFromClient(error).toShape() });
    }
  }
  return rows;
}

/**
 * Every chunk of every committed export of the hosts' entries, on each of their targets: it
 * exists with its size, and (deep, or a sampled share) its sha256. Read-only.
 */
export async function verifyTargets(config: FleetConfig, options: { hosts: readonly string[]; hashPercent: number; now: Date; target?: string }, sessions: Sessions): Promise<ExportVerifyRow[]> {
  const units = listExportUnits(config, { hosts: options.hosts }).filter((unit) => !options.target || unit.target === options.target);
  const rows: ExportVerifyRow[] = [];
  for (const unit of units) {
    const base = { host: unit.host, target: unit.target, exports: 0, chunks: 0, hashed: 0, problems: [], incomplete: [], unreadable: [] };
    try {
      const session = await sessions.get(unit.host);
      const { tree } = await session.agent.listTree.query({ roots: [unit.entry.dataset] });
      const datasets = selectDatasets(tree, unit.entry.dataset, { recursive: unit.entry.recursive, exclude: unit.entry.exclude }).datasets.map((dataset) => dataset.name);
      const listed = await session.agent.exports.list.query({ target: targetRef(unit), host: unit.host, datasets: datasets.length > 0 ? datasets : [unit.entry.dataset] });
      for (const dataset of datasets.length > 0 ? datasets : [unit.entry.dataset]) {
        const manifests = listed.manifests.filter((manifest) => manifest.dataset === dataset);
        const verified = manifests.length > 0 ? await session.agent.exports.verify.query({ target: targetRef(unit), host: unit.host, manifests, hashPercent: options.hashPercent }) : { chunks: 0, hashed: 0, problems: [] };
        rows.push({
          ...base,
          dataset,
          status: verified.problems.length > 0 || listed.unreadable.length > 0 ? 'damaged' : 'ok',
          exports: manifests.length,
          chunks: verified.chunks,
          hashed: verified.hashed,
          problems: verified.problems,
          incomplete: listed.incomplete.filter((folder) => folder.dataset === dataset && options.now.getTime() - Date.parse(folder.newestAt) > INCOMPLETE_AFTER_MS),
          unreadable: listed.unreadable.filter((entry) => entry.key.includes(`/${dataset}/`)),
        });
      }
    } catch (error) {
      rows.push({ ...base, dataset: unit.entry.dataset, status: 'unreachable', error: toFleetErrorFromClient(error).toShape() });
    }
  }
  return rows;
}
