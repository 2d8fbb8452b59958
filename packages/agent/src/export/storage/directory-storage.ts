import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { type DirectoryTarget, EXPORT_LAYOUT, FleetError } from '@zfs-fleet/protocol';
import type { ExportObject, ExportObjectEntry, ExportStorage, ExportStorageContext } from './export-storage.ts';

/** Temporary names in a target directory: never a chunk or manifest name, so readers skip them. */
const TEMPORARY_SUFFIX = '.partial';

/**
 * A directory on the source host (a local disk, an NFS or SMB mount). Writes go to a temporary
 * name, are fsynced, then renamed, and the directory is fsynced: a crash leaves the old state or
 * the new one, never a short file under a final name.
 */
export function createDirectoryStorage(target: DirectoryTarget, _context: ExportStorageContext): ExportStorage {
  const root = target.path;
  const description = `directory ${root}`;
  const resolve = (key: string) => {
    if (key.startsWith('/') || key.split('/').includes('..')) throw new FleetError('INTERNAL', `storage key "${key}" escapes ${description}`);
    return path.join(root, key);
  };
  const ioError = (operation: string, key: string, error: unknown) =>
    new FleetError('TARGET_IO_FAILED', `${operation} "${key}" on ${description} failed: ${(error as Error).message}`, {
      hint: 'check that the directory is mounted, writable and has space',
      cause: error,
      details: { target: description, key },
    });

  async function ensureRoot(): Promise<void> {
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new FleetError('TARGET_UNREACHABLE', `${description} does not exist or is not a directory`, {
        hint: 'create it (or mount it) on the source host; zfs-fleet does not create the target root',
        details: { target: description },
      });
    }
  }

  async function fsyncPath(file: string, flags: string): Promise<void> {
    const handle = await open(file, flags);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  return {
    description,
    spoolDirectory: path.join(root, EXPORT_LAYOUT, '.spool'),

    async putFile(localPath, key, options) {
      await ensureRoot();
      const destination = resolve(key);
      const temporary = `${destination}${TEMPORARY_SUFFIX}`;
      try {
        options?.signal?.throwIfAborted();
        await mkdir(path.dirname(destination), { recursive: true });
        // A spool on the same filesystem is renamed in (no copy); one elsewhere is copied first.
        await rename(localPath, temporary).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EXDEV') throw error;
          return copyFile(localPath, temporary);
        });
        await fsyncPath(temporary, 'r+');
        options?.signal?.throwIfAborted();
        await rename(temporary, destination);
        await fsyncPath(path.dirname(destination), 'r');
        return { sizeBytes: (await stat(destination)).size };
      } catch (error) {
        await rm(temporary, { force: true });
        if (options?.signal?.aborted) throw options.signal.reason;
        throw ioError('writing', key, error);
      }
    },

    async read(key, options): Promise<Readable> {
      const file = resolve(key);
      const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') throw new FleetError('TARGET_OBJECT_MISSING', `"${key}" is missing on ${description}`, { details: { target: description, key } });
        throw ioError('reading', key, error);
      });
      const range = options?.range;
      return createReadStream('', {
        fd: handle,
        ...(range ? { start: range.offset, end: range.offset + range.length - 1 } : {}),
        ...(options?.signal ? { signal: options.signal } : {}),
      });
    },

    async stat(key): Promise<ExportObject | undefined> {
      const info = await stat(resolve(key)).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
        throw ioError('reading', key, error);
      });
      return info?.isFile() ? { sizeBytes: info.size, modifiedAt: info.mtime } : undefined;
    },

    async list(prefix): Promise<ExportObjectEntry[]> {
      await ensureRoot();
      // List the deepest directory the prefix names, then filter by the whole prefix.
      const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const files = (await listFiles(resolve(base)).catch((error) => Promise.reject(ioError('listing', prefix, error)))).map((file) => path.relative(root, file).split(path.sep).join('/')).filter((key) => key.startsWith(prefix));
      return Promise.all(
        files.map(async (key) => {
          const info = await stat(resolve(key));
          return { key, sizeBytes: info.size, modifiedAt: info.mtime };
        }),
      );
    },

    async delete(keys) {
      for (const key of keys) {
        await rm(resolve(key), { force: true }).catch((error) => {
          throw ioError('deleting', key, error);
        });
        await removeEmptyParents(root, path.dirname(resolve(key)));
      }
    },
  };
}

/** Every file below `directory`; none when it does not exist. (Node 18's recursive readdir lacks parentPath.) */
async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
    throw error;
  });
  const nested = await Promise.all(
    entries.map(async (entry) => {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) return listFiles(full);
      return entry.isFile() ? [full] : [];
    }),
  );
  return nested.flat();
}

/** An export's folder goes with its last object, and its dataset's folders with their last export. */
async function removeEmptyParents(root: string, directory: string): Promise<void> {
  let current = directory;
  while (current.startsWith(`${root}${path.sep}`)) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    current = path.dirname(current);
  }
}
