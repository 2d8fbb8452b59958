import type { FleetErrorCode } from '@zfs-fleet/protocol';

/*
 * Every reading of zfs's stderr lives in this file: what a failure means (a fleet error code),
 * and the few messages callers treat as answers rather than failures. Wording is the same in
 * zfs-fuse and OpenZFS for these messages (fixtures in ./fixtures record both).
 */

interface Rule {
  pattern: RegExp;
  code: FleetErrorCode;
  hint?: string;
}

const BASE_MISSING_HINT = 'The base snapshot is gone on one side; run `fleet plan` to see what a full send would replace.';

// Matched against zfs's stderr, first rule wins.
const RULES: readonly Rule[] = [
  { pattern: /out of space|no space left|quota exceeded/i, code: 'POOL_FULL', hint: 'Free space on the pool (or raise the quota) and run again; nothing was changed.' },
  { pattern: /destination \S* ?has been modified/i, code: 'DESTINATION_MODIFIED', hint: 'Something wrote to the destination since its last snapshot; `--force` rolls it back.' },
  { pattern: /destination has snapshots|must destroy them to overwrite/i, code: 'DESTINATION_AHEAD', hint: 'The destination has newer snapshots than the base; `--force` rolls them back.' },
  { pattern: /destination '.*' exists|must specify -F to overwrite/i, code: 'DESTINATION_NOT_EMPTY', hint: 'The destination already holds a dataset; `--force` replaces it.' },
  // OpenZFS's `zfs destroy pool/ds@nope`; zfs-fuse says "dataset does not exist" (same code).
  { pattern: /could not find any snapshots to destroy/i, code: 'DATASET_NOT_FOUND' },
  { pattern: /does not match incremental source|incremental source .* does not exist|could not find any snapshots/i, code: 'BASE_MISSING', hint: BASE_MISSING_HINT },
  { pattern: /permission denied|insufficient privileges|operation not permitted/i, code: 'PERMISSION_DENIED' },
  // OpenZFS 2.x names a hold ("cannot destroy snapshot X: it's being held. Run 'zfs holds -r X'"); zfs-fuse says "dataset is busy".
  { pattern: /it's being held|has holds/i, code: 'DATASET_BUSY', hint: "A hold keeps it: `zfs holds -r SNAPSHOT` names the holders (zfs-fleet's are `zfs-fleet:<peer>`, see the README on holds)." },
  { pattern: /dataset is busy|pool is busy|device busy/i, code: 'DATASET_BUSY', hint: 'Try again when the dataset is not in use.' },
  { pattern: /dataset already exists/i, code: 'DESTINATION_NOT_EMPTY' },
  { pattern: /dataset does not exist|specified fs .* does not exist|parent does not exist|no such pool/i, code: 'DATASET_NOT_FOUND' },
  { pattern: /invalid character|invalid dataset name|snapshot name|name is too long/i, code: 'DATASET_NAME_INVALID' },
];

/**
 * Maps zfs's stderr to a fleet error code and a hint. Unknown failures are ZFS_FAILED. With the
 * argv, a send whose incremental base is missing is BASE_MISSING on OpenZFS too, which says only
 * "cannot open 'tank/a@nope': dataset does not exist" where zfs-fuse names the incremental source.
 */
export function classifyZfsError(stderr: string, argv: readonly string[] = []): { code: FleetErrorCode; hint?: string } {
  // zfs wraps long messages over lines; match on one line.
  const text = stderr.replace(/\s+/g, ' ');
  const missing = missingDatasetOf(text);
  if (missing && argv[0] === 'send' && isIncrementalBase(argv, missing)) return { code: 'BASE_MISSING', hint: BASE_MISSING_HINT };
  const rule = RULES.find((candidate) => candidate.pattern.test(text));
  if (!rule) return { code: 'ZFS_FAILED' };
  return rule.hint ? { code: rule.code, hint: rule.hint } : { code: rule.code };
}

/** `zfs create -p` lost a race with another creator of the same dataset: a second try finds it. */
export function isAlreadyExists(stderr: string): boolean {
  return /already exists/i.test(stderr);
}

/**
 * `zfs hold` of a hold already there, or `zfs release` of one that is not (the first run, or
 * one placed by an older version): the state the caller wanted is already the state.
 */
export function isHoldAlreadySettled(stderr: string): boolean {
  return /no such tag|tag does not exist|already exists/i.test(stderr);
}

/** The dataset a line of `zfs get` stderr says is missing (`cannot open 'X': dataset does not exist`), if it says that. */
export function missingDatasetOf(line: string): string | undefined {
  return /^cannot open '([^']+)': dataset does not exist$/.exec(line.trim())?.[1];
}

/** zfs send lost its reader: the stream broke downstream, so the send's error is a consequence. */
export function isBrokenPipe(stderr: string, exitCode?: number): boolean {
  return exitCode === 141 || /broken pipe|EPIPE/i.test(stderr);
}

/** zfs recv itself complained (`cannot receive ...`), as opposed to the connection carrying its stream. */
export function isReceiveRefusal(stderr: string): boolean {
  return /cannot receive/i.test(stderr);
}

/** Whether `name` is the `-i`/`-I` base of a send argv (`pool/ds@a`, or `@a` of the sent dataset). */
function isIncrementalBase(argv: readonly string[], name: string): boolean {
  const index = argv.findIndex((word) => word === '-i' || word === '-I');
  const base = index >= 0 ? argv[index + 1] : undefined;
  if (!base) return false;
  return base === name || (base.startsWith('@') && name.endsWith(base));
}

/** `zfs recv -A` on a dataset with no partial receive: already the state the caller wanted. */
export function isNoResumableState(stderr: string): boolean {
  return /does not have any resumable receive state|does not exist/i.test(stderr);
}
