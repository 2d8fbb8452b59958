import { toFleetErrorFromClient, type DatasetName, type DatasetTree, type FleetErrorShape } from '@zfs-fleet/protocol';
import type { AgentSession } from '../agent/connect-agent.ts';
import { distinct, type Unit } from './list-units.ts';

/** Where a run gets its agent sessions: a SessionPool, opened on first use. */
export interface Sessions {
  get(host: string): Promise<AgentSession>;
}

/** One `zfs get` over some roots of one host. */
export interface Listing {
  host: string;
  roots: DatasetName[];
}

/** What a host has under the listed roots, or why it could not be asked; `durationMs` from asking to the answer. */
export type Listed = ({ ok: true; tree: DatasetTree; missingRoots: DatasetName[] } | { ok: false; error: FleetErrorShape }) & { durationMs: number };

/** Lists every request at once, one zfs call each. Never throws: a host that cannot be asked gives a failure row. */
export function listTrees(sessions: Sessions, listings: readonly Listing[]): Promise<Listed[]> {
  return Promise.all(
    listings.map(async ({ host, roots }): Promise<Listed> => {
      try {
        const session = await sessions.get(host);
        const startedAt = performance.now();
        const listed = await session.agent.listTree.query({ roots });
        return { ok: true, ...listed, durationMs: Math.round(performance.now() - startedAt) };
      } catch (error) {
        return { ok: false, error: toFleetErrorFromClient(error).toShape(), durationMs: 0 };
      }
    }),
  );
}

/** The trees backup and verify plan from, by unit. */
export interface UnitTrees {
  /** The source host's entries (one listing per host). */
  source(unit: Unit): Listed;
  /** The peer's subtree for the unit's host (one listing per peer and host). */
  copy(unit: Unit): Listed;
}

/** Gathers what the units' hosts have: a constant number of zfs calls per host, whatever the number of datasets. Never throws. */
export async function gatherTrees(sessions: Sessions, units: readonly Unit[]): Promise<UnitTrees> {
  const hosts = distinct(units.map((unit) => unit.host));
  const copies = distinct(units.map((unit) => `${unit.peer}\u0000${unit.hostRoot}`));
  const listings: Listing[] = [
    ...hosts.map((host) => ({ host, roots: distinct(units.filter((unit) => unit.host === host).map((unit) => unit.entry.dataset)) })),
    ...copies.map((key) => {
      const [peer, hostRoot] = key.split('\u0000') as [string, DatasetName];
      return { host: peer, roots: [hostRoot] };
    }),
  ];
  const listed = await listTrees(sessions, listings);
  const sources = new Map(hosts.map((host, index) => [host, listed[index]!]));
  const copied = new Map(copies.map((key, index) => [key, listed[hosts.length + index]!]));
  return {
    source: (unit) => sources.get(unit.host)!,
    copy: (unit) => copied.get(`${unit.peer}\u0000${unit.hostRoot}`)!,
  };
}
