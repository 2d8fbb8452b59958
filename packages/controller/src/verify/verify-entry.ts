import { selectDatasets } from '@zfs-fleet/plan';
import type { DatasetInfo, DatasetName, DatasetTree, SnapshotInfo } from '@zfs-fleet/protocol';

export type VerifyStatus = 'OK' | 'MISSING' | 'STALE' | 'MISMATCH' | 'UNREACHABLE';

/** Worst first: a row shows the worst of what was found, and lists all of it. */
const SEVERITY: readonly VerifyStatus[] = ['UNREACHABLE', 'MISMATCH', 'MISSING', 'STALE', 'OK'];

export interface VerifyRow {
  host: string;
  dataset: string;
  peer: string;
  destination: string;
  status: VerifyStatus;
  /** One line per finding; empty when OK. */
  details: string[];
  /** The newest snapshot the peer holds with the source's guid. */
  newest?: { name: string; createdAt: string; ageMs: number };
}

export interface VerifyEntryInput {
  host: string;
  peer: string;
  source: DatasetTree;
  destination: DatasetTree;
  entry: { dataset: DatasetName; recursive: boolean; exclude: readonly string[]; rpo?: number | undefined };
  destinationOf(dataset: DatasetName): DatasetName;
  /** Snapshots this tool takes start with `<prefix>-`; those are the ones every peer must hold. */
  snapshotPrefix: string;
  now: Date;
}

/**
 * Compares one backup entry's datasets on the source with their copies on one peer, from the
 * two trees alone (no zfs calls of its own). Expected on the peer: every snapshot this tool
 * took on the source from the first one the peer received up to the newest one it holds; each
 * must be there with the source's guid.
 */
export function verifyEntry(input: VerifyEntryInput): VerifyRow[] {
  const { datasets } = selectDatasets(input.source, input.entry.dataset, input.entry);
  if (datasets.length === 0) {
    return [row(input, input.entry.dataset, 'MISSING', [`"${input.entry.dataset}" does not exist on ${input.host}.`])];
  }
  const copies = new Map(input.destination.datasets.map((dataset) => [dataset.name, dataset]));
  return datasets.map((dataset) => verifyDataset(input, dataset, copies.get(input.destinationOf(dataset.name))));
}

function verifyDataset(input: VerifyEntryInput, source: DatasetInfo, copy: DatasetInfo | undefined): VerifyRow {
  const destination = input.destinationOf(source.name);
  if (!copy) return row(input, source.name, 'MISSING', [`dataset "${destination}" is missing on ${input.peer}.`]);

  const findings: Array<[VerifyStatus, string]> = [];
  const copyGuids = new Set(copy.snapshots.map((snapshot) => snapshot.guid));
  const copyByName = new Map(copy.snapshots.map((snapshot) => [snapshot.name, snapshot]));
  for (const snapshot of source.snapshots) {
    const other = copyByName.get(snapshot.name);
    if (other && other.guid !== snapshot.guid) findings.push(['MISMATCH', `@${snapshot.name} on ${input.peer} has guid ${other.guid}, the source's has ${snapshot.guid}: other data under the same name.`]);
  }

  const shared = source.snapshots.filter((snapshot) => copyGuids.has(snapshot.guid));
  const newest = shared.at(-1);
  if (!newest) {
    findings.push(['MISSING', `none of ${input.host}'s snapshots of "${source.name}" is on ${input.peer}.`]);
    return row(
      input,
      source.name,
      worst(findings),
      findings.map(([, text]) => text),
    );
  }
  const oldest = shared[0]!;
  const ours = (snapshot: SnapshotInfo) => snapshot.name.startsWith(`${input.snapshotPrefix}-`);
  const expected = source.snapshots.filter((snapshot) => ours(snapshot) && snapshot.createtxg >= oldest.createtxg && snapshot.createtxg <= newest.createtxg);
  const missing = expected.filter((snapshot) => !copyGuids.has(snapshot.guid) && !copyByName.has(snapshot.name));
  if (missing.length > 0) findings.push(['MISSING', `snapshot(s) missing on ${input.peer}: ${missing.map((snapshot) => `@${snapshot.name}`).join(', ')}.`]);

  const ageMs = input.now.getTime() - newest.createdAt;
  if (input.entry.rpo !== undefined && ageMs > input.entry.rpo) {
    findings.push(['STALE', `newest copy @${newest.name} is ${formatAge(ageMs)} old; the rpo is ${formatAge(input.entry.rpo)}.`]);
  }
  return {
    ...row(
      input,
      source.name,
      worst(findings),
      findings.map(([, text]) => text),
    ),
    newest: { name: newest.name, createdAt: new Date(newest.createdAt).toISOString(), ageMs },
  };
}

function row(input: VerifyEntryInput, dataset: DatasetName, status: VerifyStatus, details: string[]): VerifyRow {
  return { host: input.host, dataset, peer: input.peer, destination: input.destinationOf(dataset), status, details };
}

function worst(findings: ReadonlyArray<[VerifyStatus, string]>): VerifyStatus {
  return SEVERITY.find((status) => findings.some(([found]) => found === status)) ?? 'OK';
}

/** `26h`, `3d 4h`, `45m`, `12s`. */
export function formatAge(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}
