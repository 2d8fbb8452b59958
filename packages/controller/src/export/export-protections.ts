import { exportBases, selectDatasets } from '@zfs-fleet/plan';
import { type BackupEntry, type FleetConfig, type FleetErrorShape, toFleetErrorFromClient } from '@zfs-fleet/protocol';
import type { Sessions } from '../run/gather-trees.ts';
import { listExportUnits, targetRef } from './export-units.ts';

/**
 * The source snapshots each entry's export targets still need as the next incremental's base
 * (name → why), read from the targets' manifests. An entry whose targets cannot be read gets
 * an error instead: its source must not be pruned then, since the base is unknown.
 */
export async function gatherExportProtections(config: FleetConfig, sessions: Sessions, units: ReadonlyArray<{ host: string; entry: BackupEntry }>): Promise<Map<BackupEntry, Map<string, string[]> | FleetErrorShape>> {
  const result = new Map<BackupEntry, Map<string, string[]> | FleetErrorShape>();
  for (const { host, entry } of units) {
    const exportUnits = listExportUnits(config, { hosts: [host] }).filter((unit) => unit.entry === entry);
    if (exportUnits.length === 0) continue;
    const protections = new Map<string, string[]>();
    try {
      const session = await sessions.get(host);
      const { tree } = await session.agent.listTree.query({ roots: [entry.dataset] });
      const datasets = selectDatasets(tree, entry.dataset, { recursive: entry.recursive, exclude: entry.exclude }).datasets.map((dataset) => dataset.name);
      for (const unit of exportUnits) {
        if (datasets.length === 0) continue;
        const listed = await session.agent.exports.list.query({ target: targetRef(unit), host, datasets });
        for (const dataset of datasets) {
          for (const base of exportBases(
            listed.manifests.filter((manifest) => manifest.dataset === dataset),
            unit.settings.incremental,
            unit.target,
          ))
            protections.set(base.name, [...(protections.get(base.name) ?? []), base.reason]);
        }
      }
      result.set(entry, protections);
    } catch (error) {
      result.set(entry, toFleetErrorFromClient(error).toShape());
    }
  }
  return result;
}
