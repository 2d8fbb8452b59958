export { copySnapshots, createFakeZfs, createFakeZfsState, ensureDataset } from './create-fake-zfs.ts';
export type { FakeDataset, FakeZfs, FakeZfsState } from './create-fake-zfs.ts';
