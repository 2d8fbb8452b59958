import { z } from 'zod';
import { PeerEndpointSchema } from './agent-api.ts';
import { AgeRecipientSchema, TargetConfigSchema } from './export-config.ts';
import { ExportIdSchema, type ExportManifest, ExportManifestSchema } from './export-manifest.ts';
import { DatasetNameSchema, SnapshotNameSchema } from './names.ts';

/** Which target an agent call works on: its config (with no secret in it) and its name for messages. */
const TargetRefSchema = z.object({ name: z.string().min(1), config: TargetConfigSchema });

/** The exports of one dataset from one host on a target. */
export const ListExportsInputSchema = z.object({
  target: TargetRefSchema,
  /** The config's name of the host the dataset lives on: the folder the exports are under. */
  host: z.string().min(1),
  datasets: z.array(DatasetNameSchema).min(1),
});

export interface IncompleteExport {
  dataset: string;
  exportId: string;
  /** Folder `<prefix>/<exportId>/`: objects without a committing manifest. */
  folder: string;
  objects: number;
  newestAt: string;
}

export interface ListExportsOutput {
  manifests: ExportManifest[];
  incomplete: IncompleteExport[];
  /** Manifests that do not parse: reported by verify, never used for a chain. */
  unreadable: Array<{ key: string; reason: string }>;
}

/** One export, as the plan decided: the agent adds guids, flags, sizes and hashes. */
export const ExportInputSchema = z.object({
  target: TargetRefSchema,
  host: z.string().min(1),
  dataset: DatasetNameSchema,
  snapshot: SnapshotNameSchema,
  exportId: ExportIdSchema,
  /** The controller's clock (`--now` in tests), so `fullEvery` is measured on one clock. */
  createdAt: z.iso.datetime(),
  /** Absent for a full export. */
  base: z.object({ snapshot: SnapshotNameSchema, guid: z.string().regex(/^[0-9]+$/), exportId: ExportIdSchema }).optional(),
  recipients: z.array(AgeRecipientSchema).min(1),
  chunkSizeBytes: z.number().int().positive(),
  compression: z.enum(['zstd', 'none']),
});
export type ExportInput = z.infer<typeof ExportInputSchema>;

export type ExportEvent = { type: 'start'; dataset: string; target: string; exportId: string; kind: 'full' | 'incremental'; estimatedBytes?: number } | { type: 'progress'; bytes: number; bytesPerSecond: number } | { type: 'done'; manifest: ExportManifest; durationMs: number };

/** `fleet verify` and the restore's check: every chunk of these exports exists with its size; `deep` re-hashes. */
export const VerifyExportsInputSchema = z.object({
  target: TargetRefSchema,
  host: z.string().min(1),
  manifests: z.array(ExportManifestSchema).min(1),
  /** Re-hash this share of the chunks (100: all; 0: sizes only). */
  hashPercent: z.number().min(0).max(100),
});

export interface ChunkProblem {
  exportId: string;
  dataset: string;
  chunk: string;
  problem: 'missing' | 'size' | 'sha256';
  detail: string;
}

export interface VerifyExportsOutput {
  chunks: number;
  hashed: number;
  problems: ChunkProblem[];
}

/** Deletes whole exports: each manifest first (uncommitting it), then its chunks. */
export const DeleteExportsInputSchema = z.object({
  target: TargetRefSchema,
  host: z.string().min(1),
  exports: z.array(z.object({ dataset: DatasetNameSchema, exportId: ExportIdSchema, keys: z.array(z.string()).optional() })).min(1),
});

/** A chain (a full, then its incrementals in order) back into a dataset, here or on a peer. */
export const RestoreExportInputSchema = z.object({
  target: TargetRefSchema,
  host: z.string().min(1),
  chain: z.array(ExportManifestSchema).min(1),
  /**
   * The age identity, from the controller's `--identity FILE`: it reaches `age` through a pipe
   * (never argv, never a file, never a log) and lives only as long as the call.
   */
  identity: z
    .string()
    .min(1)
    .max(64 * 1024),
  /** `exact` dataset name to receive into; on this host, or on a peer over the replication key. */
  into: DatasetNameSchema,
  peer: PeerEndpointSchema.optional(),
});
export type RestoreExportInput = z.infer<typeof RestoreExportInputSchema>;

export type RestoreExportEvent =
  | { type: 'verified'; chunks: number; bytes: number }
  | { type: 'progress'; exportId: string; bytes: number; bytesPerSecond: number }
  | { type: 'received'; exportId: string; snapshot: string; streamBytes: number }
  | { type: 'done'; durationMs: number };
