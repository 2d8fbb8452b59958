export { copySnapshots, createFakeZfs, createFakeZfsState, ensureDataset } from './create-fake-zfs.ts';
export type { FakeDataset, FakeZfs, FakeZfsState } from './create-fake-zfs.ts';
export { OPENZFS_2_3_CAPABILITIES, ZFS_FUSE_CAPABILITIES } from './zfs-fuse-capabilities.ts';
