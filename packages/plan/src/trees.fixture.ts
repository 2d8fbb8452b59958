import type { DatasetInfo, DatasetName, DatasetTree, SnapshotInfo, SnapshotName } from '@zfs-fleet/protocol';
import { planReplication } from './plan-replication.ts';
import type { PlanInput } from './steps.ts';

/**
 * Trees for tests, from `{ 'tank/a': ['s1', 's2'] }`. A snapshot's guid derives from its source
 * dataset and name, so the same snapshot on both sides shares a guid as a real replication
 * would give. `'s2=999'` overrides the guid (a collision), `'s2#50'` the createtxg; otherwise
 * createtxg follows list order. A dataset given as an object can set its bytes, resume token or zfs-fleet's mark.
 */
export type DatasetSpec = string[] | { snapshots: string[]; bytes?: number; resumeToken?: string; createdByFleet?: boolean };

export const PEER_ROOT = 'backup/fleet/src1';
export const toPeer = (name: string) => `${PEER_ROOT}/${name}` as DatasetName;

export function sourceTree(spec: Record<string, DatasetSpec>): DatasetTree {
  return { datasets: Object.entries(spec).map(([name, dataset]) => buildDataset(name, name, dataset)) };
}

/** The peer's tree, keyed by source dataset name: it lands at {@link toPeer} of it. */
export function peerTree(spec: Record<string, DatasetSpec>): DatasetTree {
  return { datasets: Object.entries(spec).map(([name, dataset]) => buildDataset(toPeer(name), name, dataset)) };
}

/** Plans `tank/a` onto {@link PEER_ROOT}, not recursive, latest, no force: override what a case needs. */
export function planFor(source: DatasetTree, destination: DatasetTree, overrides: Partial<PlanInput> = {}) {
  return planReplication({
    source,
    destination,
    root: 'tank/a' as DatasetName,
    recursive: false,
    exclude: [],
    destinationOf: toPeer,
    target: { kind: 'latest' },
    forceFull: false,
    force: false,
    mirrorDeletions: false,
    ...overrides,
  });
}

export const snapshot = (name: string) => ({ kind: 'snapshot' as const, name: name as SnapshotName });

function buildDataset(name: string, sourceName: string, spec: DatasetSpec): DatasetInfo {
  const { snapshots, bytes = 32_768, resumeToken, createdByFleet } = Array.isArray(spec) ? { snapshots: spec } : spec;
  return {
    name: name as DatasetName,
    type: 'filesystem',
    guid: guidOf(name, ''),
    referencedBytes: bytes,
    snapshots: snapshots.map((entry, index) => buildSnapshot(sourceName, entry, 100 + index)),
    ...(resumeToken ? { resumeToken } : {}),
    ...(createdByFleet !== undefined ? { createdByFleet } : {}),
  };
}

function buildSnapshot(sourceName: string, entry: string, defaultTxg: number): SnapshotInfo {
  const match = /^([^=#]+)(?:=(\d+))?(?:#(\d+))?$/.exec(entry);
  if (!match) throw new Error(`bad snapshot spec "${entry}"`);
  const [, name, guid, txg] = match as unknown as [string, string, string | undefined, string | undefined];
  const createtxg = txg === undefined ? defaultTxg : Number(txg);
  return { name: name as SnapshotName, guid: guid ?? guidOf(sourceName, name), createtxg, createdAt: createtxg * 1000 };
}

function guidOf(dataset: string, snapshotName: string): string {
  let hash = 7n;
  for (const char of `${dataset}@${snapshotName}`) hash = (hash * 31n + BigInt(char.charCodeAt(0))) % 18446744073709551557n;
  return hash.toString();
}
