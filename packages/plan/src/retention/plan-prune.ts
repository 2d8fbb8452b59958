import type { DatasetInfo, DatasetName, DatasetTree, FleetErrorCode } from '@zfs-fleet/protocol';
import { newestCommonSnapshot } from '../newest-common-snapshot.ts';
import { selectDatasets } from '../select-datasets.ts';
import { applyRetention, type RetentionCandidate, type RetentionDecision, type RetentionPolicy } from './apply-retention.ts';

export interface PruneSide {
  /** The host's tree, or undefined when it could not be read. */
  tree: DatasetTree | undefined;
  /** Absent: this side is not pruned (no `keep:` / `peerKeep:`). */
  policy: RetentionPolicy | undefined;
  /** IANA time zone of the host. */
  timeZone: string;
}

export interface PrunePeer extends PruneSide {
  name: string;
  /** Where a source dataset's copy lives on this peer. */
  destinationOf(dataset: DatasetName): DatasetName;
}

export interface PruneInput {
  /** The source host's name. */
  host: string;
  entry: { dataset: DatasetName; recursive: boolean; exclude: readonly string[] };
  source: PruneSide;
  peers: readonly PrunePeer[];
  nowMs: number;
  isManaged(name: string): boolean;
  timeOf?(snapshot: RetentionCandidate): number;
  /**
   * Extension point for export targets (`keep.fulls`): snapshot names of the source dataset
   * (entry root) that an export chain still needs, with why. Kept across the whole tree.
   */
  exportProtections?: ReadonlyMap<string, readonly string[]>;
}

export interface DatasetPrune {
  dataset: DatasetName;
  decisions: RetentionDecision[];
}

export interface HostPrune {
  host: string;
  role: 'source' | 'peer';
  datasets: DatasetPrune[];
  /** Why this host is not pruned at all for this entry (nothing is destroyed then). */
  skipped?: { code: FleetErrorCode | 'NO_POLICY'; reason: string };
}

/**
 * Pure: what pruning one backup entry does on its source and on each peer. Never destroys:
 * a snapshot not named by zfs-fleet (unless `prune.include`), a held one, the newest one, the
 * newest one a peer shares with the source (the next incremental's base, on both sides), what
 * an export chain needs. A recursive entry is decided by snapshot name over the whole tree, so
 * every dataset of the tree keeps the same snapshots. A side whose counterpart could not be
 * read is not pruned: without it, the base is unknown.
 */
export function planPrune(input: PruneInput): HostPrune[] {
  const { entry } = input;
  const sourceDatasets = input.source.tree ? selectDatasets(input.source.tree, entry.dataset, { recursive: entry.recursive, exclude: entry.exclude }).datasets : [];
  const copiesOf = (peer: PrunePeer): Array<{ source: DatasetInfo; copy: DatasetInfo }> =>
    sourceDatasets.flatMap((source) => {
      const copy = peer.tree?.datasets.find((dataset) => dataset.name === peer.destinationOf(source.name));
      return copy ? [{ source, copy }] : [];
    });

  const results: HostPrune[] = [];

  // The source: each peer's newest shared snapshot is its next incremental base.
  const sourceSkip = !input.source.policy
    ? { code: 'NO_POLICY' as const, reason: 'no keep: policy for this entry' }
    : !input.source.tree
      ? { code: 'SSH_CONNECT_FAILED' as const, reason: `could not read ${input.host}` }
      : input.peers.find((peer) => !peer.tree)
        ? { code: 'SSH_CONNECT_FAILED' as const, reason: `could not read peer ${input.peers.find((peer) => !peer.tree)!.name}, so its incremental base is unknown` }
        : undefined;
  if (sourceSkip) {
    results.push({ host: input.host, role: 'source', datasets: [], skipped: sourceSkip });
  } else {
    const protect = new Map<string, string[]>();
    for (const [name, reasons] of input.exportProtections ?? []) for (const reason of reasons) addTo(protect, name, reason);
    for (const peer of input.peers) {
      for (const { source, copy } of copiesOf(peer)) {
        const base = newestCommonSnapshot(source.snapshots, copy.snapshots).common;
        if (base) addTo(protect, base.name, `incremental base for ${peer.name}${source.name === entry.dataset ? '' : ` (${source.name})`}`);
      }
    }
    results.push({ host: input.host, role: 'source', datasets: decideTree(sourceDatasets, input.source, protect, input) });
  }

  for (const peer of input.peers) {
    const skip = !peer.policy
      ? { code: 'NO_POLICY' as const, reason: 'no peerKeep: or keep: policy for this entry' }
      : !peer.tree
        ? { code: 'SSH_CONNECT_FAILED' as const, reason: `could not read ${peer.name}` }
        : !input.source.tree
          ? { code: 'SSH_CONNECT_FAILED' as const, reason: `could not read the source ${input.host}, so the incremental base is unknown` }
          : undefined;
    if (skip) {
      results.push({ host: peer.name, role: 'peer', datasets: [], skipped: skip });
      continue;
    }
    const pairs = copiesOf(peer);
    const protect = new Map<string, string[]>();
    for (const { source, copy } of pairs) {
      const base = newestCommonSnapshot(source.snapshots, copy.snapshots).common;
      const suffix = source.name === entry.dataset ? '' : ` (${copy.name})`;
      if (base) addTo(protect, base.name, `incremental base from ${input.host}${suffix}`);
      const newest = [...copy.snapshots].sort((a, b) => b.createtxg - a.createtxg)[0];
      if (newest) addTo(protect, newest.name, `newest copy${suffix}`);
    }
    results.push({
      host: peer.name,
      role: 'peer',
      datasets: decideTree(
        pairs.map((pair) => pair.copy),
        peer,
        protect,
        input,
      ),
    });
  }
  return results;
}

/** One decision per snapshot name over the whole tree, applied to each of its datasets. */
function decideTree(datasets: readonly DatasetInfo[], side: PruneSide, protect: ReadonlyMap<string, readonly string[]>, input: PruneInput): DatasetPrune[] {
  if (datasets.length === 0) return [];
  const byName = new Map<string, RetentionCandidate>();
  for (const dataset of datasets) {
    for (const snapshot of dataset.snapshots) {
      const seen = byName.get(snapshot.name);
      if (!seen) byName.set(snapshot.name, { name: snapshot.name, guid: snapshot.guid, createdAt: snapshot.createdAt, createtxg: snapshot.createtxg, holds: snapshot.holds ?? 0 });
      // A hold on any dataset of the tree keeps that name everywhere.
      else seen.holds = (seen.holds ?? 0) + (snapshot.holds ?? 0);
    }
  }
  const decisions = new Map(
    applyRetention([...byName.values()], side.policy!, {
      nowMs: input.nowMs,
      timeZone: side.timeZone,
      isManaged: input.isManaged,
      protect,
      ...(input.timeOf ? { timeOf: input.timeOf } : {}),
    }).map((decision) => [decision.name, decision]),
  );
  return datasets.map((dataset) => ({
    dataset: dataset.name,
    decisions: dataset.snapshots.map((snapshot) => ({ ...decisions.get(snapshot.name)!, guid: snapshot.guid, createdAt: snapshot.createdAt })),
  }));
}

function addTo(map: Map<string, string[]>, name: string, reason: string): void {
  const list = map.get(name) ?? [];
  if (!list.includes(reason)) list.push(reason);
  map.set(name, list);
}

/** The snapshots a host plan destroys, per dataset (only datasets with something to destroy). */
export function destroysOf(plan: HostPrune): Array<{ dataset: DatasetName; snapshots: Array<{ name: string; guid: string }> }> {
  return plan.datasets.map((dataset) => ({ dataset: dataset.dataset, snapshots: dataset.decisions.filter((d) => d.action === 'destroy').map((d) => ({ name: d.name, guid: d.guid })) })).filter((dataset) => dataset.snapshots.length > 0);
}
