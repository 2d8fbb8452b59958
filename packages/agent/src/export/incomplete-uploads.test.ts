import { describe, expect, it } from 'vitest';
import { cleanIncompleteUploads } from './incomplete-uploads.ts';
import type { ExportStorage } from './storage/export-storage.ts';

function objectStore(uploads: Array<{ key: string; uploadId: string; initiatedAt: Date }>): ExportStorage & { aborted: string[]; prefixes: string[] } {
  const aborted: string[] = [];
  const prefixes: string[] = [];
  const unused = async () => {
    throw new Error('not used');
  };
  return {
    description: 's3 test',
    aborted,
    prefixes,
    putFile: unused,
    read: unused,
    stat: unused,
    list: unused,
    delete: unused,
    async listIncompleteUploads(prefix) {
      prefixes.push(prefix);
      return uploads;
    },
    async abortIncompleteUpload({ uploadId }) {
      aborted.push(uploadId);
    },
  };
}

describe('cleanIncompleteUploads', () => {
  const old = { key: 'zfs-fleet-v1/src1/tank/a/20261201T000000Z-00000000/00000001.zst.age', uploadId: 'old', initiatedAt: new Date('2026-12-01T00:00:00Z') };
  const fresh = { key: 'zfs-fleet-v1/src1/tank/a/20261203T000000Z-00000000/00000000.zst.age', uploadId: 'fresh', initiatedAt: new Date('2026-12-03T11:00:00Z') };

  it('lists the uploads under the prefix and aborts only those initiated before the cut-off', async () => {
    const storage = objectStore([old, fresh]);
    const result = await cleanIncompleteUploads(storage, 'zfs-fleet-v1/src1/', new Date('2026-12-02T12:00:00Z'));
    expect(result).toEqual({
      found: [
        { ...old, initiatedAt: '2026-12-01T00:00:00.000Z' },
        { ...fresh, initiatedAt: '2026-12-03T11:00:00.000Z' },
      ],
      aborted: ['old'],
    });
    expect(storage.aborted).toEqual(['old']);
    expect(storage.prefixes).toEqual(['zfs-fleet-v1/src1/']);
  });

  it('only lists without a cut-off, and does nothing on a backend without multipart uploads', async () => {
    const storage = objectStore([old]);
    expect((await cleanIncompleteUploads(storage, 'p/', undefined)).aborted).toEqual([]);
    expect(storage.aborted).toEqual([]);
    const { listIncompleteUploads: _list, abortIncompleteUpload: _abort, ...directory } = storage;
    expect(await cleanIncompleteUploads(directory, 'p/', new Date())).toEqual({ found: [], aborted: [] });
  });
});
