import { exportFolder, MANIFEST_NAME } from '@zfs-fleet/protocol';
import type { ExportStorage } from './storage/export-storage.ts';

/**
 * Deletes whole exports. The manifest goes first: from then on the export is uncommitted (no
 * plan or restore uses it, verify reports it incomplete), so a crash half-way never leaves a
 * manifest naming chunks that are gone.
 */
export async function deleteExports(storage: ExportStorage, host: string, exports: ReadonlyArray<{ dataset: string; exportId: string }>): Promise<{ deleted: number; objects: number }> {
  let objects = 0;
  for (const { dataset, exportId } of exports) {
    const folder = exportFolder(host, dataset, exportId);
    await storage.delete([`${folder}${MANIFEST_NAME}`]);
    const rest = (await storage.list(folder)).map((object) => object.key);
    await storage.delete(rest);
    objects += rest.length + 1;
  }
  return { deleted: exports.length, objects };
}
