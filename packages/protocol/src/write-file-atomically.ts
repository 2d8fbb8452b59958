import { open, rename, unlink } from 'node:fs/promises';

/**
 * Replaces `file` with `content` so that a reader (or a crash) sees the old file or the new
 * one, never half of either: write a temporary file, fsync it, rename it over.
 */
export async function writeFileAtomically(file: string, content: string, mode: number): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w', mode);
  try {
    await handle.write(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
