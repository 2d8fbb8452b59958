import type { ZfsCapabilities } from '@zfs-fleet/protocol';
import { capabilitiesFromVersion, LEGACY_CAPABILITIES } from '../capabilities.ts';

/** What the agent probes on a zfs-fuse host (the lab's zfs): the plainest stream, no holds. */
export const ZFS_FUSE_CAPABILITIES: ZfsCapabilities = { ...LEGACY_CAPABILITIES, version: 'zfs-fuse (pool v23)', implementation: 'zfs-fuse' };

/** What the agent probes on OpenZFS 2.3 (from the `zfs version` of the lab's VM): every feature on. */
export const OPENZFS_2_3_CAPABILITIES: ZfsCapabilities = capabilitiesFromVersion('zfs-2.3.2-1~bpo12+1\nzfs-kmod-2.3.2-1~bpo12+1\n')!;
