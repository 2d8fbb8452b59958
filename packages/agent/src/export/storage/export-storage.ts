import type { Readable } from 'node:stream';
import type pino from 'pino';

/**
 * Where exports are stored: one interface for every target type, so a backend is one file.
 * Keys are relative, `/`-separated (`zfs-fleet-v1/<host>/<dataset>/<exportId>/00000000.age`);
 * each backend maps them under its own root (a directory, an rclone remote path, a bucket
 * prefix). Backends throw FleetError (`TARGET_UNREACHABLE`, `TARGET_IO_FAILED`...) naming
 * `description`.
 */
export interface ExportStorage {
  /** For messages: `directory /mnt/x`, `rclone b2:bucket/fleet`, `s3 backups/fleet`. */
  readonly description: string;
  /** Where to spool files before `putFile`, when the backend has a cheaper place than the context's (the same filesystem). */
  readonly spoolDirectory?: string;
  /**
   * Stores a finished local file under `key` so that no reader ever sees a partial object. The
   * local file may be moved away; callers remove it afterwards (`rm -f`).
   */
  putFile(localPath: string, key: string, options?: { signal?: AbortSignal }): Promise<{ sizeBytes: number }>;
  /** Reads an object, whole or `range` (offset and length in bytes), as a stream. */
  read(key: string, options?: { signal?: AbortSignal; range?: { offset: number; length: number } }): Promise<Readable>;
  /** Undefined when there is no such object. */
  stat(key: string): Promise<ExportObject | undefined>;
  /** Every object whose key starts with `prefix` (recursively), in no particular order. */
  list(prefix: string): Promise<ExportObjectEntry[]>;
  /** Deletes the objects in order, one at a time where order matters to the caller; a missing key is no error. */
  delete(keys: readonly string[]): Promise<void>;
  /** Object stores only: multipart uploads never completed (or aborted). */
  listIncompleteUploads?(prefix: string): Promise<IncompleteUpload[]>;
  abortIncompleteUpload?(upload: Pick<IncompleteUpload, 'key' | 'uploadId'>): Promise<void>;
}

export interface ExportObject {
  sizeBytes: number;
  modifiedAt: Date;
}

export interface ExportObjectEntry extends ExportObject {
  key: string;
}

export interface IncompleteUpload {
  key: string;
  uploadId: string;
  initiatedAt: Date;
}

/** What a backend may need besides its target's config. */
export interface ExportStorageContext {
  logger: pino.Logger;
  /** A directory on the host for spooling (rclone) and temporary files; the agent's own. */
  spoolDirectory: string;
  /** The environment children get (rclone): callers pass one without secrets. */
  env?: NodeJS.ProcessEnv;
}
