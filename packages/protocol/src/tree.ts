import { z } from 'zod';
import { DatasetNameSchema, SnapshotNameSchema } from './names.ts';

/**
 * A snapshot as both sides see it. `guid` is a decimal string: guids are 64-bit and do not
 * fit a JS number. Two snapshots are the same data only if their guids are equal.
 */
export const SnapshotInfoSchema = z.object({
  name: SnapshotNameSchema,
  guid: z.string().regex(/^[0-9]+$/),
  /** Transaction group that created it: orders snapshots of one dataset exactly. */
  createtxg: z.number().int().nonnegative(),
  /** Creation time, epoch milliseconds. */
  createdAt: z.number().int().nonnegative(),
  /** zfs `userrefs`: how many holds anyone placed on it (zfs-fuse can count holds but not list them). */
  holds: z.number().int().nonnegative().optional(),
});
export type SnapshotInfo = z.infer<typeof SnapshotInfoSchema>;

export const DatasetInfoSchema = z.object({
  name: DatasetNameSchema,
  type: z.enum(['filesystem', 'volume']),
  guid: z.string().regex(/^[0-9]+$/),
  /** Space referenced by the live dataset, bytes. */
  referencedBytes: z.number().int().nonnegative(),
  /** Oldest first (by createtxg). */
  snapshots: z.array(SnapshotInfoSchema),
  /** OpenZFS only: a partially received stream that can be resumed with `zfs send -t`. */
  resumeToken: z.string().optional(),
  /** OpenZFS ≥ 0.8 only: native encryption is on, so the data travels raw or not at all. */
  encrypted: z.boolean().optional(),
  /** zfs-fleet created it (its `zfs-fleet:created` is set locally): proof that it held nothing of a user's. */
  createdByFleet: z.boolean().optional(),
  /** Filesystems: `canmount` as in effect, and as received from a stream when that differs. */
  canmount: z.object({ value: z.string(), received: z.string().optional() }).optional(),
});
export type DatasetInfo = z.infer<typeof DatasetInfoSchema>;

/** Datasets below (and including) some roots, parents before children. */
export const DatasetTreeSchema = z.object({
  datasets: z.array(DatasetInfoSchema),
});
export type DatasetTree = z.infer<typeof DatasetTreeSchema>;

/** What the zfs on a host can do; probed once per agent process. */
export const ZfsCapabilitiesSchema = z.object({
  /** `zfs version` output, or a description such as "zfs-fuse (no version command)". */
  version: z.string(),
  implementation: z.enum(['openzfs', 'zfs-fuse', 'unknown']),
  listParsable: z.boolean(),
  getTypeFilter: z.boolean(),
  resumableReceive: z.boolean(),
  bookmarks: z.boolean(),
  rawSend: z.boolean(),
  compressedSend: z.boolean(),
  largeBlocks: z.boolean(),
  embeddedData: z.boolean(),
  holds: z.boolean(),
  sendEstimate: z.boolean(),
  /** Receive without mounting (`recv -u`). */
  receiveNoMount: z.boolean(),
  /** `zfs destroy ds@a,b,c` in one call (OpenZFS); zfs-fuse takes one snapshot per call. */
  destroyMany: z.boolean().default(false),
});
export type ZfsCapabilities = z.infer<typeof ZfsCapabilitiesSchema>;
