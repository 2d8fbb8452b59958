import { createFakeFleet, type FakeFleet } from '../../packages/controller/src/agent/fake-fleet.fixture.ts';

/** The simulated fleet's shape: `hosts` in a ring, each with `datasets` × `snapshots` under `tank`. */
export interface RingShape {
  hosts: number;
  datasets: number;
  snapshots: number;
}

export const hostNames = (shape: RingShape) => Array.from({ length: shape.hosts }, (_, index) => `h${String(index).padStart(4, '0')}`);
export const datasetNames = (shape: RingShape) => Array.from({ length: shape.datasets }, (_, index) => `tank/d${String(index).padStart(2, '0')}`);

/**
 * The in-memory fleet of a ring: every host the source of `tank` (recursive) and the peer of the
 * host before it, whose copies are already there up to the second newest snapshot (so a plan
 * finds one incremental per host). All datasets share the same snapshot records: the fake's own
 * memory stays small beside the controller's.
 */
export function createRingFleet(shape: RingShape): FakeFleet {
  const hosts = hostNames(shape);
  const names = ['tank', ...datasetNames(shape)];
  const shared = Array.from({ length: shape.snapshots }, (_, index) => ({
    name: `fleet-202611${String(1 + Math.floor(index / 24)).padStart(2, '0')}T${String(index % 24).padStart(2, '0')}0000.000Z`,
    guid: String(900_000 + index),
    createtxg: 10 + index,
    creation: 1_800_000_000 + index * 3600,
  }));
  const fleet = createFakeFleet(Object.fromEntries(hosts.map((host) => [host, [...names, 'backup/fleet']])));
  hosts.forEach((host, index) => {
    const state = fleet.zfs[host]!.state;
    for (const name of names) state.datasets.get(name)!.snapshots = shared.slice();
    const before = hosts[(index + hosts.length - 1) % hosts.length]!;
    state.datasets.set(`backup/fleet/${before}`, { guid: String(800_000 + index), createtxg: 4, referencedBytes: 1000, snapshots: [] });
    for (const name of names) state.datasets.set(`backup/fleet/${before}/${name}`, { guid: fleet.zfs[before]!.state.datasets.get(name)!.guid, createtxg: 5, referencedBytes: 1000, canmount: 'noauto', snapshots: shared.slice(0, -1) });
  });
  return fleet;
}

/** The ring's config, as a user would write it: each host receives under backup/fleet and backs `tank` up to the next. */
export function ringConfigText(shape: RingShape, stateDir: string, connections?: number): string {
  const hosts = hostNames(shape);
  return [
    'ssh: { identityFile: /nonexistent/id, knownHosts: /nonexistent/known_hosts }',
    `stateDir: ${stateDir}`,
    ...(connections ? [`parallel: { connections: ${connections} }`] : []),
    'hosts:',
    ...hosts.flatMap((host, index) => [`  ${host}:`, `    address: ${host}.test`, '    receive: { root: backup/fleet }', `    backups: [{ dataset: tank, recursive: true, to: [${hosts[(index + 1) % hosts.length]}] }]`]),
  ].join('\n');
}
