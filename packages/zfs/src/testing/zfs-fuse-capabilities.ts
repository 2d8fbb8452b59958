import type { ZfsCapabilities } from '@zfs-fleet/protocol';
import { LEGACY_CAPABILITIES } from '../capabilities.ts';

/** What the agent probes on a zfs-fuse host (the lab's zfs): the plainest stream, no holds. */
export const ZFS_FUSE_CAPABILITIES: ZfsCapabilities = { ...LEGACY_CAPABILITIES, version: 'zfs-fuse (pool v23)', implementation: 'zfs-fuse' };
