import { zfsFailure, type ZfsExec, type ZfsRunResult } from '../exec.ts';

/** One dataset of a fake host: its snapshots oldest first. */
export interface FakeDataset {
  guid: string;
  createtxg: number;
  referencedBytes: number;
  snapshots: Array<{ name: string; guid: string; createtxg: number; creation: number }>;
  /** Created by zfs-fleet's `zfs create -o zfs-fleet:created=...` (a local value). */
  createdByFleet?: boolean;
  /** A local `canmount`; `on` by default. */
  canmount?: string;
}

/** A host's zfs state in memory: datasets by name, and a transaction counter. */
export interface FakeZfsState {
  datasets: Map<string, FakeDataset>;
  txg: number;
  /** Seconds since the epoch, for `creation`. */
  now(): number;
}

export interface FakeZfs extends ZfsExec {
  state: FakeZfsState;
  /** Every argv run, in order. */
  argv: string[][];
}

let nextGuid = 1000;
const newGuid = () => String((nextGuid += 7919));

/** A fake host state with these datasets (and their parents), no snapshots. */
export function createFakeZfsState(datasets: readonly string[] = [], now = () => 1_800_000_000): FakeZfsState {
  const state: FakeZfsState = { datasets: new Map(), txg: 1, now };
  for (const name of datasets) ensureDataset(state, name);
  return state;
}

export function ensureDataset(state: FakeZfsState, name: string): FakeDataset {
  const parts = name.split('/');
  for (let depth = 1; depth <= parts.length; depth += 1) {
    const path = parts.slice(0, depth).join('/');
    if (!state.datasets.has(path)) state.datasets.set(path, { guid: newGuid(), createtxg: (state.txg += 1), referencedBytes: 1000, snapshots: [] });
  }
  return state.datasets.get(name)!;
}

const within = (name: string, root: string) => name === root || name.startsWith(`${root}/`);

/**
 * A zfs that answers the verbs zfs-fleet uses (get of a tree, snapshot, create, destroy of a
 * snapshot, set, hold, release) from `state`, as zfs-fuse prints them, and records each argv.
 * Streams are not run: transfers between fake hosts copy state (see the agent's test seam).
 */
export function createFakeZfs(state: FakeZfsState = createFakeZfsState()): FakeZfs {
  const argv: string[][] = [];
  const ok = (stdout = ''): ZfsRunResult => ({ exitCode: 0, stdout, stderr: '' });
  const fail = (stderr: string): ZfsRunResult => ({ exitCode: 1, stdout: '', stderr });
  const answer = (args: readonly string[]): ZfsRunResult => {
    const [verb, ...rest] = args;
    switch (verb) {
      case 'get': {
        // keepUnmounted: `get -H [-r] -o name,value canmount DATASET`.
        if (rest.includes('name,value')) {
          const root = rest.at(-1)!;
          if (!state.datasets.has(root)) return fail(`cannot open '${root}': dataset does not exist\n`);
          const names = [...state.datasets.keys()].filter((name) => (rest.includes('-r') ? within(name, root) : name === root)).sort();
          return ok(names.map((name) => `${name}\t${state.datasets.get(name)!.canmount ?? 'on'}\n`).join(''));
        }
        const columns = rest.find((word) => word.startsWith('name,property,value'))!;
        const wide = columns !== 'name,property,value';
        // Built as one string: a bench lists thousands of these trees (bench/sim/).
        const end = wide ? '\t-\t-\n' : '\n';
        const roots = rest.slice(rest.indexOf(columns) + 2);
        let stdout = '';
        const missing: string[] = [];
        for (const root of roots) {
          if (!state.datasets.has(root)) missing.push(`cannot open '${root}': dataset does not exist`);
          for (const [name, dataset] of [...state.datasets].filter(([name]) => within(name, root)).sort(([a], [b]) => (a < b ? -1 : 1))) {
            const { guid, createtxg, referencedBytes, canmount } = dataset;
            stdout += `${name}\ttype\tfilesystem${end}${name}\tguid\t${guid}${end}${name}\tcreatetxg\t${createtxg}${end}${name}\tcreation\t${state.now()}${end}${name}\treferenced\t${referencedBytes}${end}`;
            if (wide) stdout += `${name}\tcanmount\t${canmount ?? 'on'}\t-\t${canmount ? 'local' : 'default'}\n${name}\tzfs-fleet:created\t${dataset.createdByFleet ? 'yes\t-\tlocal' : '-\t-\t-'}\n`;
            for (const snapshot of dataset.snapshots) {
              const full = `${name}@${snapshot.name}`;
              stdout += `${full}\ttype\tsnapshot${end}${full}\tguid\t${snapshot.guid}${end}${full}\tcreatetxg\t${snapshot.createtxg}${end}${full}\tcreation\t${snapshot.creation}${end}${full}\treferenced\t${referencedBytes}${end}`;
            }
          }
        }
        return { exitCode: missing.length > 0 ? 1 : 0, stdout, stderr: missing.map((line) => `${line}\n`).join('') };
      }
      case 'snapshot': {
        const recursive = rest[0] === '-r';
        const txg = (state.txg += 1);
        for (const full of rest.filter((word) => !word.startsWith('-'))) {
          const [dataset, name] = full.split('@') as [string, string];
          if (!state.datasets.has(dataset)) return fail(`cannot open '${dataset}': dataset does not exist\n`);
          for (const [childName, child] of state.datasets) {
            if (!(recursive ? within(childName, dataset) : childName === dataset)) continue;
            if (child.snapshots.some((snapshot) => snapshot.name === name)) return fail(`cannot create snapshot '${full}': dataset already exists\n`);
            child.snapshots.push({ name, guid: newGuid(), createtxg: txg, creation: state.now() });
          }
        }
        return ok();
      }
      case 'create': {
        const name = rest.at(-1)!;
        if (state.datasets.has(name)) return fail(`cannot create '${name}': dataset already exists\n`);
        const created = ensureDataset(state, name);
        if (rest.some((word) => word.startsWith('zfs-fleet:created='))) created.createdByFleet = true;
        return ok();
      }
      case 'destroy': {
        const [dataset, name] = rest.at(-1)!.split('@') as [string, string];
        const found = state.datasets.get(dataset);
        if (!found?.snapshots.some((snapshot) => snapshot.name === name)) return fail(`cannot open '${rest.at(-1)}': dataset does not exist\n`);
        found.snapshots = found.snapshots.filter((snapshot) => snapshot.name !== name);
        return ok();
      }
      case 'set': {
        const [assignment, ...datasets] = rest;
        if (assignment?.startsWith('canmount='))
          for (const name of datasets) {
            const found = state.datasets.get(name);
            if (found) found.canmount = assignment.slice('canmount='.length);
          }
        return ok();
      }
      case 'mount':
      case 'unmount':
      case 'hold':
      case 'release':
        return ok();
      default:
        return fail(`unrecognized command '${verb ?? ''}'\n`);
    }
  };
  return {
    state,
    argv,
    async run(args, options = {}) {
      argv.push([...args]);
      const result = answer(args);
      if (result.exitCode !== 0 && !options.allowFailure) {
        throw zfsFailure(args, result.stderr, result.exitCode);
      }
      return result;
    },
    spawn() {
      throw new Error('the fake zfs runs no streams; transfers between fake hosts copy their state');
    },
    calls() {
      const byVerb: Record<string, number> = {};
      for (const args of argv) byVerb[args[0] ?? ''] = (byVerb[args[0] ?? ''] ?? 0) + 1;
      return { total: argv.length, byVerb };
    },
  };
}

/**
 * What `zfs send [-R] [-I from] dataset@to | zfs recv [-d] target` does between two fake
 * hosts: the snapshots up to `to` (after `from`) arrive with their guids, datasets are created.
 */
export function copySnapshots(source: FakeZfsState, destination: FakeZfsState, options: { dataset: string; from?: string; to: string; recursive: boolean; destinationOf(dataset: string): string }): void {
  for (const [name, dataset] of [...source.datasets].filter(([name]) => (options.recursive ? within(name, options.dataset) : name === options.dataset))) {
    const end = dataset.snapshots.findIndex((snapshot) => snapshot.name === options.to);
    if (end < 0) continue;
    const start = options.from ? dataset.snapshots.findIndex((snapshot) => snapshot.name === options.from) + 1 : end;
    const target = options.destinationOf(name);
    const existed = destination.datasets.has(target);
    const copy = ensureDataset(destination, target);
    if (!existed) copy.guid = dataset.guid;
    for (const snapshot of dataset.snapshots.slice(start, end + 1)) {
      if (!copy.snapshots.some((kept) => kept.guid === snapshot.guid)) copy.snapshots.push({ ...snapshot, createtxg: (destination.txg += 1) });
    }
  }
}
