import { datasetExportsPrefix, ExportIdSchema, type ExportManifest, ExportManifestSchema, type IncompleteExport, type ListExportsOutput, MANIFEST_NAME } from '@zfs-fleet/protocol';
import type { ExportStorage } from './storage/export-storage.ts';

/** Reads a whole (small) object as text. */
export async function readText(storage: ExportStorage, key: string): Promise<string> {
  const parts: Buffer[] = [];
  for await (const data of await storage.read(key)) parts.push(data as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** Every committed export of these datasets (by manifest), and folders that never got one. */
export async function listExports(storage: ExportStorage, host: string, datasets: readonly string[]): Promise<ListExportsOutput> {
  const output: ListExportsOutput = { manifests: [], incomplete: [], unreadable: [] };
  for (const dataset of datasets) {
    const prefix = datasetExportsPrefix(host, dataset);
    const objects = await storage.list(prefix);
    const folders = new Map<string, typeof objects>();
    for (const object of objects) {
      const rest = object.key.slice(prefix.length);
      // Only `<exportId>/<file>` directly below: a child dataset's exports live deeper.
      const parts = rest.split('/');
      if (parts.length !== 2 || !ExportIdSchema.safeParse(parts[0]).success) continue;
      const list = folders.get(parts[0]!) ?? [];
      list.push(object);
      folders.set(parts[0]!, list);
    }
    for (const [exportId, files] of folders) {
      const manifestKey = `${prefix}${exportId}/${MANIFEST_NAME}`;
      if (!files.some((file) => file.key === manifestKey)) {
        const incomplete: IncompleteExport = { dataset, exportId, folder: `${prefix}${exportId}/`, objects: files.length, newestAt: new Date(Math.max(...files.map((file) => file.modifiedAt.getTime()))).toISOString() };
        output.incomplete.push(incomplete);
        continue;
      }
      const parsed = ExportManifestSchema.safeParse(await readText(storage, manifestKey).then(JSON.parse, (error: Error) => ({ unreadable: error.message })));
      if (parsed.success && parsed.data.exportId === exportId && parsed.data.dataset === dataset) output.manifests.push(parsed.data as ExportManifest);
      else output.unreadable.push({ key: manifestKey, reason: parsed.success ? 'its exportId or dataset does not match its folder' : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') });
    }
  }
  output.manifests.sort((a, b) => a.exportId.localeCompare(b.exportId));
  return output;
}
