import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { DatasetNameSchema } from './names.ts';

/** Layout version of everything under `<root>/zfs-fleet-v1/`. */
export const EXPORT_LAYOUT = 'zfs-fleet-v1';
export const MANIFEST_NAME = 'manifest.json';

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lower-case hex');
const GuidSchema = z.string().regex(/^[0-9]+$/, 'a decimal guid');
/** `20261203T150405Z-<8 hex>`: sorts by time, unique per export. */
export const ExportIdSchema = z.string().regex(/^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$/, 'an export id such as 20261203T150405Z-1a2b3c4d');
/** Numbered chunk files: `00000000.zst.age`, `00000001.zst.age`, ... */
export const ChunkNameSchema = z.string().regex(/^[0-9]{8}(\.zst)?\.age$/, 'a chunk name such as 00000000.zst.age');

export const ExportChunkSchema = z.object({
  name: ChunkNameSchema,
  /** Bytes of the zfs stream this chunk carries (before compression and encryption). */
  rawBytes: z.number().int().nonnegative(),
  /** Bytes of the stored object. */
  storedBytes: z.number().int().positive(),
  storedSha256: Sha256Schema,
});
export type ExportChunk = z.infer<typeof ExportChunkSchema>;

const SnapshotRefSchema = z.object({ name: z.string().min(1), guid: GuidSchema, createtxg: z.string().regex(/^[0-9]+$/) });

/**
 * `manifest.json`, plaintext and written last: its presence commits the export. It holds no
 * secret, so a host with only the public key can plan the next incremental from it.
 */
export const ExportManifestSchema = z.object({
  format: z.literal(EXPORT_LAYOUT),
  exportId: ExportIdSchema,
  toolVersion: z.string(),
  /** `zfs version` (or "zfs-fuse") and the agent's Node.js, for whoever restores years later. */
  zfsVersion: z.string(),
  host: z.string().min(1),
  dataset: DatasetNameSchema,
  kind: z.enum(['full', 'incremental']),
  createdAt: z.iso.datetime(),
  snapshot: SnapshotRefSchema,
  /** Incrementals: the snapshot the stream starts from and the export that carries it. */
  base: SnapshotRefSchema.omit({ createtxg: true }).extend({ exportId: ExportIdSchema }).optional(),
  /** Flags given to `zfs send`, e.g. ["-w"] for a raw send, ["-i", "@base"]. */
  sendFlags: z.array(z.string()),
  stream: z.object({ bytes: z.number().int().nonnegative(), sha256: Sha256Schema }),
  compression: z.enum(['zstd', 'none']),
  encryption: z.object({ scheme: z.literal('age'), recipients: z.array(z.string()).min(1) }),
  chunkSizeBytes: z.number().int().positive(),
  chunks: z.array(ExportChunkSchema).min(1),
});
export type ExportManifest = z.infer<typeof ExportManifestSchema>;

/** `zfs-fleet-v1/<host>/<dataset path>/`: every export of one dataset from one host. */
export function datasetExportsPrefix(host: string, dataset: string): string {
  return `${EXPORT_LAYOUT}/${host}/${dataset}/`;
}

export function exportFolder(host: string, dataset: string, exportId: string): string {
  return `${datasetExportsPrefix(host, dataset)}${exportId}/`;
}

/** `20261203T150405Z-1a2b3c4d`: sorts by time; the random part keeps two runs in one second apart. */
export function newExportId(now: Date, random: () => string = () => randomBytes(4).toString('hex')): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.[0-9]{3}/, '')}-${random()}`;
}
