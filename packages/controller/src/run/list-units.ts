import { FleetError, joinDataset, peersOf, type BackupEntry, type DatasetName, type FleetConfig } from '@zfs-fleet/protocol';

/** One backup entry of one source host to one peer: what succeeds or fails on its own. */
export interface Unit {
  host: string;
  entry: BackupEntry;
  peer: string;
  /** The peer's `receive.root`. */
  receiveRoot: DatasetName;
  /** `<receive.root>/<host>`: the peer's subtree for this source host. */
  hostRoot: DatasetName;
  /** Where the entry's dataset lands on the peer: `<receive.root>/<host>/<dataset>`. */
  destination: DatasetName;
}

export interface UnitSelection {
  /** Source hosts, in the order reports list them. */
  hosts: readonly string[];
  /** Only these entries (`fleet run --due`); all of each host's entries when absent. */
  only?: (host: string, dataset: string) => boolean;
}

/** Where host H's dataset lands on a peer: `<receive.root>/H/<dataset>`. */
export function destinationOf(receiveRoot: DatasetName, host: string, dataset: DatasetName): DatasetName {
  return joinDataset(receiveRoot, host, dataset);
}

/** A peer's `receive.root`; the config's validation guarantees every peer has one. */
export function receiveRootOf(config: FleetConfig, peer: string): DatasetName {
  const root = config.hosts[peer]?.receive?.root;
  if (!root) throw new FleetError('CONFIG_INVALID', `Host "${peer}" has no "receive:" section, so it cannot be a peer.`);
  return root;
}

/**
 * Every (host, entry, peer) the selection covers, in host order, then entry order, then peer
 * order; a host named twice counts once. Pure: the one place that walks the config's
 * host → entry → peer fan-out.
 */
export function listUnits(config: FleetConfig, selection: UnitSelection): Unit[] {
  return distinct(selection.hosts).flatMap((host) =>
    (config.hosts[host]?.backups ?? [])
      .filter((entry) => selection.only?.(host, entry.dataset) ?? true)
      .flatMap((entry) =>
        peersOf(config, entry).map((peer) => {
          const receiveRoot = receiveRootOf(config, peer);
          return { host, entry, peer, receiveRoot, hostRoot: joinDataset(receiveRoot, host), destination: destinationOf(receiveRoot, host, entry.dataset) };
        }),
      ),
  );
}

/** Each value once, in first-seen order. */
export function distinct<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}
