import { z } from 'zod';
import { FleetError } from './errors.ts';

/**
 * ZFS's naming rules (zfs(8) "Naming", OpenZFS's zfs_namecheck.c): components of
 * alphanumerics and `_ - : .` and space, separated by `/`; the pool name starts with a letter.
 * zfs keeps `%` for its own temporary names, so a user's dataset never has one. We are
 * stricter than zfs where a name could be mistaken for something else: no `.`/`..`
 * components, no leading `-`. Names only ever travel as argv elements or shell-quoted words.
 */
const COMPONENT = /^[A-Za-z0-9_:. -]+$/;
const POOL = /^[A-Za-z][A-Za-z0-9_:. -]*$/;
const ALLOWED = 'letters, digits, space and _ - : .';
const RESERVED_POOLS = new Set(['mirror', 'raidz', 'raidz1', 'raidz2', 'raidz3', 'spare', 'log', 'cache', 'draid']);
const MAX_NAME_LENGTH = 255;

declare const datasetBrand: unique symbol;
declare const snapshotBrand: unique symbol;
/** A dataset name that passed {@link parseDatasetName}: safe to put in a zfs argv. */
export type DatasetName = string & { readonly [datasetBrand]: true };
/** A snapshot's short name (the part after `@`), validated. */
export type SnapshotName = string & { readonly [snapshotBrand]: true };

/** Why `name` is not a valid dataset name, or undefined if it is. */
export function explainDatasetName(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (name.includes('@')) return 'contains "@" (that is a snapshot name, not a dataset)';
  if (name.includes('#')) return 'contains "#" (that is a bookmark name, not a dataset)';
  if (name.startsWith('/') || name.endsWith('/')) return 'starts or ends with "/"';
  const parts = name.split('/');
  const pool = parts[0] ?? '';
  if (!POOL.test(pool)) return `has pool name "${pool}", which must start with a letter and hold only ${ALLOWED}`;
  if (RESERVED_POOLS.has(pool) || /^c[0-9]/.test(pool)) return `uses the reserved pool name "${pool}"`;
  for (const part of parts) {
    if (part === '') return 'has an empty component ("//")';
    if (part === '.' || part === '..') return `has the component "${part}"`;
    if (part.startsWith('-')) return `has the component "${part}", which starts with "-"`;
    if (!COMPONENT.test(part)) return `has the component "${part}" with a character outside ${ALLOWED}`;
  }
  return undefined;
}

/** Why `name` is not a valid snapshot short name, or undefined if it is. */
export function explainSnapshotName(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (name.startsWith('-')) return 'starts with "-"';
  if (!COMPONENT.test(name)) return `has a character outside ${ALLOWED}`;
  return undefined;
}

export function isDatasetName(name: string): name is DatasetName {
  return explainDatasetName(name) === undefined;
}

export function parseDatasetName(name: string): DatasetName {
  const problem = explainDatasetName(name);
  if (problem !== undefined) {
    throw new FleetError('DATASET_NAME_INVALID', `Dataset name "${name}" ${problem}.`, {
      hint: 'Use a ZFS dataset name such as "tank/Media/Movies".',
    });
  }
  return name as DatasetName;
}

export function parseSnapshotName(name: string): SnapshotName {
  const problem = explainSnapshotName(name);
  if (problem !== undefined) {
    throw new FleetError('SNAPSHOT_NAME_INVALID', `Snapshot name "${name}" ${problem}.`, {
      hint: 'Give the part after "@", for example "fleet-2026-01-01T00:00:00Z".',
    });
  }
  return name as SnapshotName;
}

export const DatasetNameSchema = z
  .string()
  .superRefine((value, ctx) => {
    const problem = explainDatasetName(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `dataset name "${value}" ${problem}` });
  })
  .transform((value) => value as DatasetName);

export const SnapshotNameSchema = z
  .string()
  .superRefine((value, ctx) => {
    const problem = explainSnapshotName(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `snapshot name "${value}" ${problem}` });
  })
  .transform((value) => value as SnapshotName);

/** The pool a dataset lives in: its first component. */
export function poolOf(dataset: DatasetName): string {
  return dataset.split('/')[0]!;
}

/** The parent dataset, or undefined for a pool's root dataset. */
export function parentOf(dataset: DatasetName): DatasetName | undefined {
  const slash = dataset.lastIndexOf('/');
  return slash < 0 ? undefined : (dataset.slice(0, slash) as DatasetName);
}

/** `child` is `ancestor` itself or lies below it. */
export function isWithin(child: string, ancestor: string): boolean {
  return child === ancestor || child.startsWith(`${ancestor}/`);
}

export function joinDataset(...parts: string[]): DatasetName {
  return parseDatasetName(parts.filter((p) => p !== '').join('/'));
}
