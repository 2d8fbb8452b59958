import type { FleetErrorCode } from '@zfs-fleet/protocol';

interface Rule {
  pattern: RegExp;
  code: FleetErrorCode;
  hint?: string;
}

// Matched against zfs's stderr, first rule wins. Wording is the same in zfs-fuse and OpenZFS
// for these messages (fixtures in ./fixtures record both).
const RULES: readonly Rule[] = [
  { pattern: /out of space|no space left|quota exceeded/i, code: 'POOL_FULL', hint: 'Free space on the pool (or raise the quota) and run again; nothing was changed.' },
  { pattern: /destination \S* ?has been modified/i, code: 'DESTINATION_MODIFIED', hint: 'Something wrote to the destination since its last snapshot; `--force` rolls it back.' },
  { pattern: /destination has snapshots|must destroy them to overwrite/i, code: 'DESTINATION_AHEAD', hint: 'The destination has newer snapshots than the base; `--force` rolls them back.' },
  { pattern: /destination '.*' exists|must specify -F to overwrite/i, code: 'DESTINATION_NOT_EMPTY', hint: 'The destination already holds a dataset; `--force` replaces it.' },
  { pattern: /does not match incremental source|incremental source .* does not exist|could not find any snapshots/i, code: 'BASE_MISSING', hint: 'The base snapshot is gone on one side; run `fleet plan` to see what a full send would replace.' },
  { pattern: /permission denied|insufficient privileges|operation not permitted/i, code: 'PERMISSION_DENIED' },
  { pattern: /dataset is busy|pool is busy|device busy/i, code: 'DATASET_BUSY', hint: 'Try again when the dataset is not in use.' },
  { pattern: /dataset already exists/i, code: 'DESTINATION_NOT_EMPTY' },
  { pattern: /dataset does not exist|specified fs .* does not exist|parent does not exist|no such pool/i, code: 'DATASET_NOT_FOUND' },
  { pattern: /invalid character|invalid dataset name|snapshot name|name is too long/i, code: 'DATASET_NAME_INVALID' },
];

/** Maps zfs's stderr to a fleet error code and a hint. Unknown failures are ZFS_FAILED. */
export function classifyZfsError(stderr: string, _argv: readonly string[] = []): { code: FleetErrorCode; hint?: string } {
  // zfs wraps long messages over lines; match on one line.
  const text = stderr.replace(/\s+/g, ' ');
  const rule = RULES.find((candidate) => candidate.pattern.test(text));
  if (!rule) return { code: 'ZFS_FAILED' };
  return rule.hint ? { code: rule.code, hint: rule.hint } : { code: rule.code };
}
