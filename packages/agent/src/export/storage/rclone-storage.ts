import path from 'node:path';
import type { Readable } from 'node:stream';
import { FleetError, type RcloneTarget } from '@zfs-fleet/protocol';
import { execa, type ResultPromise } from 'execa';
import { classifyRcloneFailure } from './classify-rclone-failure.ts';
import type { ExportObject, ExportObjectEntry, ExportStorage, ExportStorageContext } from './export-storage.ts';

/** Temporary names on a remote that can rename: never a chunk or manifest name, so readers skip them. */
const TEMPORARY_SUFFIX = '.partial';
/** On every call: fail fast on a dead remote instead of rclone's one-minute default. */
const COMMON_FLAGS = ['--contimeout', '15s', '--timeout', '5m', '--use-json-log=false'];

interface RcloneListEntry {
  Path: string;
  Size: number;
  ModTime: string;
  IsDir: boolean;
}

/**
 * The environment rclone runs in: the caller's (without secrets), with `AWS_CA_BUNDLE` removed
 * (with it set, every S3 call of Debian 12's rclone 1.60 fails with LoadCustomCABundleError) and
 * `RCLONE_CONFIG` pointing at the target's config when it names one.
 */
export function rcloneEnvironment(base: NodeJS.ProcessEnv, rcloneConfig: string | undefined): NodeJS.ProcessEnv {
  const env = { ...base };
  delete env['AWS_CA_BUNDLE'];
  if (rcloneConfig !== undefined) env['RCLONE_CONFIG'] = rcloneConfig;
  return env;
}

/**
 * An rclone remote (`remote:path`), through the host's `rclone` (Debian 12: 1.60). Files are
 * spooled first and sent with `copyto`, which retries (`rcat` does not, and leaves truncated
 * files); on remotes that rename (sftp, local, most file systems) under a temporary name then
 * `moveto`, so no reader sees a partial object; object stores write whole objects anyway.
 */
export function createRcloneStorage(target: RcloneTarget, context: ExportStorageContext): ExportStorage {
  const root = target.remote.replace(/\/+$/, '');
  const description = `rclone ${root}`;
  const env = rcloneEnvironment(context.env ?? process.env, target.rcloneConfig);
  const remotePath = (key: string) => {
    if (key.startsWith('/') || key.split('/').includes('..')) throw new FleetError('INTERNAL', `storage key "${key}" escapes ${description}`);
    return root.endsWith(':') ? `${root}${key}` : `${root}/${key}`;
  };
  let canRename: Promise<boolean> | undefined;

  function start(args: string[], options: { signal?: AbortSignal; stdout?: 'pipe' } = {}): ResultPromise<{ reject: false }> {
    return execa('rclone', [...args, ...COMMON_FLAGS], {
      env,
      extendEnv: false,
      stdin: 'ignore',
      reject: false,
      ...(options.signal ? { cancelSignal: options.signal } : {}),
      ...(options.stdout ? { buffer: { stdout: false, stderr: true } } : {}),
    }) as ResultPromise<{ reject: false }>;
  }

  function failure(operation: string, key: string, result: { exitCode?: number; stderr: unknown; code?: string; cause?: unknown }): FleetError {
    const details = { target: description, key };
    if ((result.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      return new FleetError('TOOL_MISSING', `rclone, needed by ${description}, is not on the host's PATH`, { hint: 'install it (Debian: apt install rclone)', details });
    }
    const classified = classifyRcloneFailure(result.exitCode ?? -1, String(result.stderr ?? ''));
    if (classified.kind === 'missing') return new FleetError('TARGET_OBJECT_MISSING', `"${key}" is missing on ${description}`, { details });
    return new FleetError(classified.kind === 'unreachable' ? 'TARGET_UNREACHABLE' : 'TARGET_IO_FAILED', `${operation} "${key}" on ${description} failed: ${classified.reason}`, {
      hint: classified.kind === 'unreachable' ? 'check the remote in the rclone config on the host (`rclone lsd REMOTE:` as the ssh user); `fleet doctor` checks every target' : 'the export run can be repeated: nothing partial is committed',
      details,
    });
  }

  /** Runs rclone to completion; a non-zero exit becomes a FleetError unless it means "missing" and `missingOk`. */
  async function run(operation: string, key: string, args: string[], options: { signal?: AbortSignal; missingOk?: boolean } = {}): Promise<string | undefined> {
    const result = await start(args, options);
    if (result.isCanceled) throw options.signal?.reason ?? new Error('canceled');
    if (result.exitCode === 0) return String(result.stdout);
    const error = failure(operation, key, result);
    if (options.missingOk && error.code === 'TARGET_OBJECT_MISSING') return undefined;
    throw error;
  }

  async function stat(key: string): Promise<ExportObject | undefined> {
    const stdout = await run('reading', key, ['lsjson', '--stat', remotePath(key)], { missingOk: true });
    if (stdout === undefined) return undefined;
    const entry = JSON.parse(stdout) as RcloneListEntry;
    return entry.IsDir ? undefined : { sizeBytes: entry.Size, modifiedAt: new Date(entry.ModTime) };
  }

  async function remoteCanRename(): Promise<boolean> {
    canRename ??= run('inspecting', '', ['backend', 'features', `${root.slice(0, root.indexOf(':') + 1)}`]).then((stdout) => {
      const features = JSON.parse(stdout ?? '{}') as { Features?: { Move?: boolean; BucketBased?: boolean } };
      return features.Features?.Move === true && features.Features.BucketBased !== true;
    });
    return canRename.catch((error) => {
      canRename = undefined;
      throw error;
    });
  }

  return {
    description,

    async putFile(localPath, key, options) {
      const rename = await remoteCanRename();
      const destination = remotePath(key);
      const uploadedAs = rename ? `${destination}${TEMPORARY_SUFFIX}` : destination;
      await run('writing', key, ['copyto', localPath, uploadedAs], options);
      if (rename) await run('writing', key, ['moveto', uploadedAs, destination], options);
      const stored = await stat(key);
      if (!stored) throw new FleetError('TARGET_IO_FAILED', `"${key}" is not on ${description} after upload`, { details: { target: description, key } });
      return { sizeBytes: stored.sizeBytes };
    },

    async read(key, options): Promise<Readable> {
      // rclone cat of a missing file fails only after its stdout is handed out: ask first.
      if (!(await stat(key))) throw new FleetError('TARGET_OBJECT_MISSING', `"${key}" is missing on ${description}`, { details: { target: description, key } });
      const range = options?.range;
      const child = start(['cat', ...(range ? ['--offset', String(range.offset), '--count', String(range.length)] : []), remotePath(key)], {
        stdout: 'pipe',
        ...(options?.signal ? { signal: options.signal } : {}),
      });
      const stdout = child.stdout as Readable;
      void child.then((result) => {
        if (result.exitCode !== 0 && !result.isCanceled) stdout.destroy(failure('reading', key, result));
      });
      return stdout;
    },

    stat,

    async list(prefix): Promise<ExportObjectEntry[]> {
      const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const stdout = await run('listing', prefix, ['lsjson', '-R', '--files-only', base === '' ? root : remotePath(base)], { missingOk: true });
      if (stdout === undefined) return [];
      return (JSON.parse(stdout) as RcloneListEntry[])
        .map((entry) => ({ key: base === '' ? entry.Path : `${base}/${entry.Path}`, sizeBytes: entry.Size, modifiedAt: new Date(entry.ModTime) }))
        .filter((entry) => entry.key.startsWith(prefix) && !entry.key.endsWith(TEMPORARY_SUFFIX));
    },

    async delete(keys) {
      for (const key of keys) {
        await run('deleting', key, ['deletefile', '--retries', '1', remotePath(key)], { missingOk: true });
      }
      // An export's folder goes with its last object (where the remote has folders at all).
      for (const folder of new Set(keys.map((key) => path.posix.dirname(key)).filter((folder) => folder !== '.'))) {
        await start(['rmdirs', remotePath(folder)]);
      }
    },
  };
}
