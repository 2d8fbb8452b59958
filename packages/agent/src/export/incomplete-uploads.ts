import type { ExportStorage, IncompleteUpload } from './storage/export-storage.ts';

export interface IncompleteUploadsResult {
  /** Uploads never completed, with their keys under `prefix`. */
  found: Array<{ key: string; uploadId: string; initiatedAt: string }>;
  aborted: string[];
}

/**
 * Object stores' multipart uploads that were never completed (a killed upload): listed, and
 * those initiated before `abortBefore` aborted. Nothing for backends without multipart uploads.
 */
export async function cleanIncompleteUploads(storage: ExportStorage, prefix: string, abortBefore: Date | undefined): Promise<IncompleteUploadsResult> {
  if (!storage.listIncompleteUploads) return { found: [], aborted: [] };
  const uploads: IncompleteUpload[] = await storage.listIncompleteUploads(prefix);
  const aborted: string[] = [];
  for (const upload of uploads) {
    if (!abortBefore || upload.initiatedAt >= abortBefore || !storage.abortIncompleteUpload) continue;
    await storage.abortIncompleteUpload({ key: upload.key, uploadId: upload.uploadId });
    aborted.push(upload.uploadId);
  }
  return { found: uploads.map((upload) => ({ key: upload.key, uploadId: upload.uploadId, initiatedAt: upload.initiatedAt.toISOString() })), aborted };
}
