import { formatBytes, shellQuote, type ZfsCapabilities } from '@zfs-fleet/protocol';
import type { CommandResult } from '../ssh/run-command.ts';

export type CheckStatus = 'OK' | 'WARN' | 'FAIL';

/** One line of `fleet doctor`: what was checked, how it went, and what to do about it. */
export interface DoctorCheck {
  /** Absent for fleet-wide checks (the config). */
  host?: string;
  check: string;
  status: CheckStatus;
  message: string;
  fix?: string;
  /** The zfs check: what the host's zfs can do, as the agent probed it. */
  capabilities?: ZfsCapabilities;
}

/** The features zfs-fleet uses, by the names doctor prints. */
const FEATURES: ReadonlyArray<[keyof ZfsCapabilities, string]> = [
  ['holds', 'holds'],
  ['resumableReceive', 'resume (recv -s, send -t)'],
  ['rawSend', 'raw sends (-w)'],
  ['compressedSend', '-c'],
  ['largeBlocks', '-L'],
  ['embeddedData', '-e'],
  ['sendEstimate', 'estimates (send -nP)'],
  ['bookmarks', 'bookmarks'],
  ['listParsable', 'list -p'],
  ['getTypeFilter', 'get -t'],
  ['receiveNoMount', 'recv -u'],
];

/** "openzfs zfs-2.3.2-1; has: holds, ...; lacks: ..." for the zfs check of doctor. */
export function describeCapabilities(zfs: ZfsCapabilities): string {
  const has = FEATURES.filter(([key]) => zfs[key] === true).map(([, label]) => label);
  const lacks = FEATURES.filter(([key]) => zfs[key] !== true).map(([, label]) => label);
  return `${zfs.implementation}: ${zfs.version}; has: ${has.join(', ') || 'none'}${lacks.length ? `; lacks: ${lacks.join(', ')}` : ''}`;
}

const GIB = 1024 ** 3;

/** Below either, a peer's pool gets a warning: a full peer fails every receive into it. */
export const FREE_SPACE_WARN_RATIO = 0.1;
export const FREE_SPACE_WARN_BYTES = GIB;

/** Free space on the pool a peer receives into: a warning under 10% or under 1 GiB. */
export function judgeFreeSpace(host: string, pool: string, space: { availableBytes: number; usedBytes: number }): DoctorCheck {
  const total = space.availableBytes + space.usedBytes;
  const ratio = total > 0 ? space.availableBytes / total : 0;
  const message = `pool ${pool}: ${formatBytes(space.availableBytes)} free of ${formatBytes(total)} (${Math.round(ratio * 100)}%)`;
  if (ratio < FREE_SPACE_WARN_RATIO || space.availableBytes < FREE_SPACE_WARN_BYTES) {
    const why = ratio < FREE_SPACE_WARN_RATIO ? `under ${FREE_SPACE_WARN_RATIO * 100}% free` : 'under 1 GiB free';
    return { host, check: 'free space', status: 'WARN', message: `${message}: ${why}`, fix: `free space on ${host}'s pool ${pool} or grow it: receives fail with POOL_FULL when it runs out` };
  }
  return { host, check: 'free space', status: 'OK', message };
}

/**
 * The outcome of `ssh -o BatchMode=yes PEER true` run on a source host. ssh exits 255 for its
 * own failures (unreachable, host key, authentication); any other code means the source
 * logged in, even where a forced command (`fleet-agent recv`) then refused `true`.
 */
export function judgePeerLogin(host: string, peer: string, result: CommandResult): DoctorCheck {
  const check = `peer key → ${peer}`;
  const said =
    result.stderr
      .trim()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .at(-1) ?? `exit ${result.exitCode}`;
  if (result.exitCode === 255) {
    return { host, check, status: 'FAIL', message: `${host} cannot log in to ${peer}: ${said}`, fix: `run \`fleet keys setup ${host}\`` };
  }
  return { host, check, status: 'OK', message: result.exitCode === 0 ? `${host} logs in to ${peer}` : `${host} logs in to ${peer} (restricted: ${said})` };
}

/** The sh script a source host runs to log in to a peer the way its agent does, with the replication key when there is one. */
export function peerLoginScript(peer: { host: string; port: number; user: string }): string {
  return [
    'set -- -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10',
    'if [ -f "$HOME/.ssh/zfs-fleet_ed25519" ]; then set -- "$@" -i "$HOME/.ssh/zfs-fleet_ed25519"; fi',
    'if [ -f "$HOME/.ssh/zfs-fleet_known_hosts" ]; then set -- "$@" -o "UserKnownHostsFile=$HOME/.ssh/known_hosts $HOME/.ssh/zfs-fleet_known_hosts"; fi',
    `exec ssh "$@" -p ${peer.port} -l ${shellQuote(peer.user)} ${shellQuote(peer.host)} true </dev/null`,
  ].join('\n');
}

/** What the host's agent found for one export target: reachable, and the tools exports need. */
export function judgeExportTarget(host: string, target: string, result: { reachable: boolean; error?: { code: string; message: string; hint?: string }; age: boolean; zfs?: never; zstd: boolean }): DoctorCheck[] {
  const checks: DoctorCheck[] = [
    result.reachable
      ? { host, check: `target ${target}`, status: 'OK', message: `${host} reaches export target "${target}"` }
      : { host, check: `target ${target}`, status: 'FAIL', message: `${host} cannot use export target "${target}": ${result.error?.code}: ${result.error?.message}`, ...(result.error?.hint ? { fix: result.error.hint } : {}) },
  ];
  const missing = [...(result.age ? [] : ['age']), ...(result.zstd ? [] : ['zstd'])];
  checks.push(
    missing.length === 0 ? { host, check: 'export tools', status: 'OK', message: 'age and zstd are installed' } : { host, check: 'export tools', status: 'FAIL', message: `${host} lacks ${missing.join(' and ')}, which exports need`, fix: `apt install ${missing.join(' ')}` },
  );
  return checks;
}
