import { access, readFile } from 'node:fs/promises';
import type { ZfsCapabilities } from '@zfs-fleet/protocol';
import type { ZfsExec } from './exec.ts';

/** Everything off: what the oldest zfs we support (zfs-fuse, pool v23) can do. */
export const LEGACY_CAPABILITIES: Omit<ZfsCapabilities, 'version' | 'implementation'> = {
  listParsable: false,
  getTypeFilter: false,
  resumableReceive: false,
  bookmarks: false,
  rawSend: false,
  compressedSend: false,
  largeBlocks: false,
  embeddedData: false,
  // zfs-fuse can hold and release but cannot list holds (`zfs holds` needs a missing helper), so
  // a stale hold could never be found and released: we place none there.
  holds: false,
  sendEstimate: false,
  // `recv -u` is older than its usage text admits: zfs-fuse accepts it.
  receiveNoMount: true,
  // zfs-fuse answers `zfs destroy ds@a,b` with "invalid dataset name".
  destroyMany: false,
};

/** Parses `zfs version` (OpenZFS ≥ 0.8: "zfs-2.1.11-1\nzfs-kmod-2.1.11-1"). */
export function capabilitiesFromVersion(output: string): ZfsCapabilities | undefined {
  const match = /^zfs-(\d+)\.(\d+)\.(\d+)\S*/m.exec(output);
  if (!match) return undefined;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  const atLeast = (a: number, b: number) => major > a || (major === a && minor >= b);
  return {
    version: match[0],
    implementation: 'openzfs',
    listParsable: true,
    getTypeFilter: true,
    resumableReceive: atLeast(0, 7),
    bookmarks: true,
    rawSend: atLeast(0, 8),
    compressedSend: atLeast(0, 7),
    largeBlocks: true,
    embeddedData: true,
    holds: true,
    sendEstimate: true,
    receiveNoMount: true,
    destroyMany: true,
  };
}

/**
 * Probes what this host's zfs can do, with one zfs call. `zfs version` exists from OpenZFS 0.8
 * on; anything that lacks it gets the legacy set, so the same code path works everywhere.
 */
export async function probeCapabilities(zfs: ZfsExec): Promise<ZfsCapabilities> {
  const result = await zfs.run(['version'], { allowFailure: true });
  if (result.exitCode === 0) {
    const parsed = capabilitiesFromVersion(result.stdout);
    if (parsed) return parsed;
  }
  const kernelVersion = await readFile('/sys/module/zfs/version', 'utf8').catch(() => undefined);
  if (kernelVersion) return { ...LEGACY_CAPABILITIES, version: `zfs-kmod-${kernelVersion.trim()} (no version command)`, implementation: 'openzfs' };
  const isFuse = await Promise.any(['/usr/sbin/zfs-fuse', '/sbin/zfs-fuse', '/usr/bin/zfs-fuse'].map((path) => access(path))).then(
    () => true,
    () => false,
  );
  return { ...LEGACY_CAPABILITIES, version: isFuse ? 'zfs-fuse (pool v23)' : 'unknown (no version command)', implementation: isFuse ? 'zfs-fuse' : 'unknown' };
}
