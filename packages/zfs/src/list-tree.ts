import type { DatasetName, DatasetTree, ZfsCapabilities } from '@zfs-fleet/protocol';
import { missingDatasetOf } from './classify-error.ts';
import { zfsFailure, type ZfsExec } from './exec.ts';
import { CREATED_PROPERTY, ENCRYPTION_PROPERTY, HOLDS_PROPERTY, parseTree, RESUME_TOKEN_PROPERTY, TREE_COLUMNS, TREE_PROPERTIES } from './parse-tree.ts';

export function listTreeArgs(roots: readonly string[], capabilities: Pick<ZfsCapabilities, 'resumableReceive'> & Partial<Pick<ZfsCapabilities, 'rawSend'>>, options: { holds?: boolean } = {}): string[] {
  // Properties older zfs lacks make the whole call fail, so ask only for what this zfs has.
  const properties = [...TREE_PROPERTIES, CREATED_PROPERTY, ...(capabilities.resumableReceive ? [RESUME_TOKEN_PROPERTY] : []), ...(capabilities.rawSend ? [ENCRYPTION_PROPERTY] : []), ...(options.holds ? [HOLDS_PROPERTY] : [])];
  return ['get', '-H', '-p', '-r', '-o', TREE_COLUMNS, properties.join(','), ...roots];
}

/**
 * Lists the datasets and snapshots under all roots with one zfs call: the number of zfs calls
 * per run must not grow with the number of datasets. Roots that do not exist are reported,
 * not thrown: "not there yet" is a normal answer for a peer that never received anything.
 */
export async function listTree(zfs: ZfsExec, roots: readonly string[], capabilities: Parameters<typeof listTreeArgs>[1], options: { holds?: boolean } = {}): Promise<{ tree: DatasetTree; missingRoots: DatasetName[] }> {
  if (roots.length === 0) return { tree: { datasets: [] }, missingRoots: [] };
  const argv = listTreeArgs(roots, capabilities, options);
  const result = await zfs.run(argv, { allowFailure: true });
  const missingRoots: DatasetName[] = [];
  const otherErrors: string[] = [];
  for (const line of result.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const missing = missingDatasetOf(line);
    if (missing && roots.includes(missing)) missingRoots.push(missing as DatasetName);
    else otherErrors.push(line);
  }
  if (result.exitCode !== 0 && (otherErrors.length > 0 || missingRoots.length === 0)) {
    throw zfsFailure(argv, otherErrors.join('\n') || result.stderr, result.exitCode);
  }
  const tree = parseTree(result.stdout);
  // A root nested in another root would be listed twice; parseTree merges by name.
  return { tree, missingRoots };
}
