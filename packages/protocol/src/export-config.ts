import { z } from 'zod';
import { explainAgeRecipient } from './age-recipient.ts';
import { DurationSchema } from './duration.ts';

/** C0/C1 controls: no path, remote or prefix has them. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

const AbsolutePathSchema = z
  .string()
  .regex(/^\//, 'an absolute path')
  .refine((value) => !CONTROL_CHARACTERS.test(value), 'no control characters')
  .refine((value) => !value.split('/').includes('..'), 'no ".." component');

/** `128M`, `64K`, `1G` or a number of bytes: the raw stream bytes per chunk. */
export const ChunkSizeSchema = z
  .union([z.number().int(), z.string().regex(/^[0-9]+[KMG]?$/, 'a size such as "64M", "128M" or "1G"')])
  .transform((value) => {
    if (typeof value === 'number') return value;
    const unit = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[value.slice(-1)] ?? 1;
    return Number(unit === 1 ? value : value.slice(0, -1)) * unit;
  })
  .refine((bytes) => bytes >= 1024 * 1024 && bytes <= 5 * 1024 ** 3, 'between 1M and 5G');

export const AgeRecipientSchema = z.string().superRefine((value, ctx) => {
  const problem = explainAgeRecipient(value);
  // Never echo a pasted secret key back into a message or a log.
  if (problem) ctx.addIssue({ code: 'custom', message: /^AGE-SECRET-KEY-/i.test(value) ? problem : `"${value}" ${problem}` });
});

/**
 * How many full streams (each with the incrementals that depend on it) an export chain keeps.
 * Snapshots an export chain still needs reach the pruning plan as `exportProtections`.
 */
export const ExportKeepSchema = z.strictObject({ fulls: z.number().int().positive() });

/** `exports:` at the top, in a target and in an entry: each key overrides the one before it. */
export const ExportSettingsSchema = z.strictObject({
  /** Public keys only: the private key never goes to a host (restore takes `--identity FILE`). */
  encryption: z.strictObject({ recipients: z.array(AgeRecipientSchema).min(1, 'at least one age recipient') }).optional(),
  /** A new full after this much time since the last one; else an incremental. */
  fullEvery: DurationSchema.optional(),
  /** differential: from the last full; chained: from the previous export. */
  incremental: z.enum(['differential', 'chained']).optional(),
  chunkSize: ChunkSizeSchema.optional(),
  /** Compression of non-raw streams (raw sends of encrypted datasets do not compress). */
  compression: z.enum(['zstd', 'none']).optional(),
  keep: ExportKeepSchema.optional(),
});
export type ExportSettingsInput = z.infer<typeof ExportSettingsSchema>;

const NameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "-", "." and no leading punctuation');

export const DirectoryTargetSchema = z.strictObject({
  type: z.literal('directory'),
  /** A directory on the source host. */
  path: AbsolutePathSchema,
  exports: ExportSettingsSchema.optional(),
});

export const RcloneTargetSchema = z.strictObject({
  type: z.literal('rclone'),
  /** `remote:path` as rclone names it, from the host's rclone config (or `rcloneConfig`). */
  remote: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_ .-]*:/, 'an rclone remote such as "b2:my-bucket/fleet"')
    .refine((value) => !CONTROL_CHARACTERS.test(value), 'no control characters'),
  rcloneConfig: AbsolutePathSchema.optional(),
  exports: ExportSettingsSchema.optional(),
});

export const S3TargetSchema = z.strictObject({
  type: z.literal('s3'),
  endpoint: z.url({ protocol: /^https?$/, error: 'an http(s) URL such as "https://s3.example.org"' }),
  region: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'a region such as "us-east-1"')
    .default('us-east-1'),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (3-63 of a-z 0-9 . -)'),
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9!_.*'()/-]*$/, 'an S3 key prefix of safe characters')
    .refine((value) => !value.startsWith('/') && !value.split('/').includes('..'), 'relative, no ".."')
    .default(''),
  /** `AWS_ACCESS_KEY_ID=` / `AWS_SECRET_ACCESS_KEY=` lines, read on the host; never in argv, env of children or logs. */
  credentialsFile: AbsolutePathSchema,
  /** Path-style addressing (`endpoint/bucket/key`), which most non-AWS servers need. */
  forcePathStyle: z.boolean().default(true),
  exports: ExportSettingsSchema.optional(),
});

export const TargetConfigSchema = z.discriminatedUnion('type', [DirectoryTargetSchema, RcloneTargetSchema, S3TargetSchema]);
export type TargetConfig = z.infer<typeof TargetConfigSchema>;
export type DirectoryTarget = z.infer<typeof DirectoryTargetSchema>;
export type RcloneTarget = z.infer<typeof RcloneTargetSchema>;
export type S3Target = z.infer<typeof S3TargetSchema>;

export const TargetsSchema = z.record(NameSchema, TargetConfigSchema);

/** The settings one export uses, every default filled in. */
export interface ExportSettings {
  recipients: string[];
  fullEveryMs: number;
  incremental: 'differential' | 'chained';
  chunkSizeBytes: number;
  compression: 'zstd' | 'none';
  keepFulls: number | undefined;
}

export const EXPORT_DEFAULTS = { fullEveryMs: 7 * 86_400_000, incremental: 'differential', chunkSizeBytes: 128 * 1024 ** 2, compression: 'zstd' } as const;

/** Top-level `exports:`, then the target's, then the entry's: the later key wins. */
export function resolveExportSettings(...layers: ReadonlyArray<ExportSettingsInput | undefined>): ExportSettings | { missing: 'recipients' } {
  const merged: ExportSettingsInput = Object.assign({}, ...layers.filter((layer) => layer !== undefined));
  if (!merged.encryption) return { missing: 'recipients' };
  return {
    recipients: merged.encryption.recipients,
    fullEveryMs: merged.fullEvery ?? EXPORT_DEFAULTS.fullEveryMs,
    incremental: merged.incremental ?? EXPORT_DEFAULTS.incremental,
    chunkSizeBytes: merged.chunkSize ?? EXPORT_DEFAULTS.chunkSizeBytes,
    compression: merged.compression ?? EXPORT_DEFAULTS.compression,
    keepFulls: merged.keep?.fulls,
  };
}
