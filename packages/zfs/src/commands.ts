import { parseDatasetName, parseSnapshotName } from '@zfs-fleet/protocol';
import { isAlreadyExists } from './classify-error.ts';
import { zfsFailure, type ZfsExec } from './exec.ts';
import { CREATED_PROPERTY } from './parse-tree.ts';

export interface SnapshotRequest {
  dataset: string;
  name: string;
}

/**
 * Takes snapshots. With `recursive`, each is one atomic `zfs snapshot -r`, so a tree's
 * snapshot is consistent. OpenZFS takes several in one call (also atomic); older zfs takes one
 * name per call.
 */
export async function createSnapshots(zfs: ZfsExec, requests: readonly SnapshotRequest[], options: { recursive: boolean; manyPerCall?: boolean }): Promise<void> {
  const names = requests.map((request) => `${parseDatasetName(request.dataset)}@${parseSnapshotName(request.name)}`);
  const flags = options.recursive ? ['-r'] : [];
  if (options.manyPerCall && names.length > 0) {
    await zfs.run(['snapshot', ...flags, ...names]);
    return;
  }
  for (const name of names) await zfs.run(['snapshot', ...flags, name]);
}

/**
 * Creates datasets and any missing parents (`mkdir -p` semantics), top-down one level per call,
 * each marked with {@link CREATED_PROPERTY} so a later plan knows it held nothing of a user's.
 * Existing datasets are left alone and unmarked. `properties` go on the requested datasets only.
 */
export async function createDatasets(zfs: ZfsExec, datasets: readonly string[], options: { properties?: Record<string, string>; createdAt?: Date } = {}): Promise<void> {
  const props = Object.entries(options.properties ?? {}).flatMap(([key, value]) => ['-o', `${key}=${value}`]);
  const mark = ['-o', `${CREATED_PROPERTY}=${(options.createdAt ?? new Date()).toISOString()}`];
  for (const dataset of datasets) {
    const parts = parseDatasetName(dataset).split('/');
    // The pool's root dataset always exists; every level below it is created by its own call.
    for (let depth = 2; depth <= parts.length; depth += 1) {
      const name = parts.slice(0, depth).join('/');
      const argv = ['create', ...mark, ...(depth === parts.length ? props : []), name];
      const result = await zfs.run(argv, { allowFailure: true });
      // Two sources backing up into a new receive root at once race to create its parents: the
      // loser finds them there, which is what it wanted.
      if (result.exitCode !== 0 && !isAlreadyExists(result.stderr)) throw zfsFailure(argv, result.stderr, result.exitCode);
    }
  }
}

/** Destroys exactly one snapshot: never `-r`, never a dataset. */
export async function destroySnapshot(zfs: ZfsExec, dataset: string, name: string): Promise<void> {
  await zfs.run(['destroy', `${parseDatasetName(dataset)}@${parseSnapshotName(name)}`]);
}

export interface SendOptions {
  /** Full snapshot name, `pool/ds@snap`. */
  snapshot: string;
  /** Incremental base: a snapshot (`pool/ds@a` or `@a`) or, on OpenZFS, a bookmark (`pool/ds#a`). */
  from?: string;
  /** `-I` (all snapshots between base and target) rather than `-i`. */
  intermediates?: boolean;
  /** `-R`: the dataset, its descendants, their snapshots and properties. */
  replicate?: boolean;
  /** `-p`: the dataset's properties travel too (`-R` implies it). */
  properties?: boolean;
  largeBlocks?: boolean;
  embedded?: boolean;
  compressed?: boolean;
  /** `-w`: encrypted datasets travel encrypted. */
  raw?: boolean;
  /** `-t TOKEN`: resume a partially received stream; everything else is in the token. */
  resumeToken?: string;
}

export function buildSendArgs(options: SendOptions): string[] {
  if (options.resumeToken) return ['send', '-t', options.resumeToken];
  const flags: string[] = [];
  if (options.replicate) flags.push('-R');
  else if (options.properties) flags.push('-p');
  if (options.largeBlocks) flags.push('-L');
  if (options.embedded) flags.push('-e');
  if (options.compressed) flags.push('-c');
  if (options.raw) flags.push('-w');
  if (options.from) flags.push(options.intermediates === false ? '-i' : '-I', options.from);
  return ['send', ...flags, options.snapshot];
}

export interface RecvOptions {
  /** With discardPool: the dataset under which the stream's path minus its pool lands. */
  target: string;
  /** `-d`: `tank/a/b` received into `backup/src1` lands at `backup/src1/a/b`. */
  discardPool?: boolean;
  /** `-F`: roll back (and with -R streams destroy) what the destination has beyond the stream. */
  force?: boolean;
  /** `-u`: do not mount what was received. */
  noMount?: boolean;
  /** `-s`: keep a resume token if the stream breaks (OpenZFS). */
  resumable?: boolean;
}

export function buildRecvArgs(options: RecvOptions): string[] {
  const flags: string[] = [];
  if (options.discardPool) flags.push('-d');
  if (options.force) flags.push('-F');
  if (options.noMount) flags.push('-u');
  if (options.resumable) flags.push('-s');
  return ['recv', ...flags, parseDatasetName(options.target)];
}

/** Sets properties on one dataset (one call). Only names from a fixed list reach here. */
export async function setProperties(zfs: ZfsExec, dataset: string, properties: Record<string, string>): Promise<void> {
  const assignments = Object.entries(properties).map(([key, value]) => `${key}=${value}`);
  if (assignments.length === 0) return;
  await zfs.run(['set', ...assignments, parseDatasetName(dataset)]);
}

/** `zfs send -nP ...` (OpenZFS): the stream's size without sending it, from the `size` line. */
export function parseSendEstimate(output: string): number | undefined {
  const line = output
    .split('\n')
    .reverse()
    .find((candidate) => candidate.startsWith('size\t'));
  const value = line ? Number(line.split('\t')[1]) : Number.NaN;
  return Number.isFinite(value) ? value : undefined;
}

/** Asks zfs how big a send will be; undefined when it cannot say (then progress shows no ETA). */
export async function estimateSend(zfs: ZfsExec, sendArgs: readonly string[]): Promise<number | undefined> {
  const [verb, ...rest] = sendArgs;
  const result = await zfs.run([verb ?? 'send', '-n', '-P', ...rest], { allowFailure: true });
  return result.exitCode === 0 ? parseSendEstimate(`${result.stdout}\n${result.stderr}`) : undefined;
}
