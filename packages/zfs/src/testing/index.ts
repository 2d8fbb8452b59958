export { copySnapshots, createFakeZfs, createFakeZfsState, ensureDataset } from './create-fake-zfs.ts';
export type { FakeDataset, FakeZfs, FakeZfsState } from './create-fake-zfs.ts';
export { ZFS_FUSE_CAPABILITIES } from './zfs-fuse-capabilities.ts';
