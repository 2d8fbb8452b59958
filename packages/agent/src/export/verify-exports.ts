import { createHash } from 'node:crypto';
import { type ChunkProblem, type ExportManifest, exportFolder, type VerifyExportsOutput } from '@zfs-fleet/protocol';
import type { ExportStorage } from './storage/export-storage.ts';

/** Which chunks a `--sample PERCENT` re-hashes: spread evenly, the same ones for the same manifests. */
export function sampleChunks(total: number, percent: number): Set<number> {
  if (percent >= 100) return new Set(Array.from({ length: total }, (_, index) => index));
  const wanted = Math.ceil((total * percent) / 100);
  const chosen = new Set<number>();
  for (let index = 0; index < wanted; index += 1) chosen.add(Math.floor((index * total) / wanted));
  return chosen;
}

/** sha256 of a stored object, streamed. */
export async function hashObject(storage: ExportStorage, key: string, signal?: AbortSignal): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const data of await storage.read(key, signal ? { signal } : {})) {
    hash.update(data as Buffer);
    bytes += (data as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * Every chunk of every manifest exists with the size its manifest says; `hashPercent` of them
 * (all at 100) are read back and re-hashed. Problems name the export and the chunk.
 */
export async function verifyExports(storage: ExportStorage, host: string, manifests: readonly ExportManifest[], hashPercent: number, signal?: AbortSignal): Promise<VerifyExportsOutput> {
  const all = manifests.flatMap((manifest) => manifest.chunks.map((chunk) => ({ manifest, chunk })));
  const sampled = sampleChunks(all.length, hashPercent);
  const output: VerifyExportsOutput = { chunks: all.length, hashed: 0, problems: [] };
  for (const [index, { manifest, chunk }] of all.entries()) {
    signal?.throwIfAborted();
    const key = `${exportFolder(host, manifest.dataset, manifest.exportId)}${chunk.name}`;
    const problem = (kind: ChunkProblem['problem'], detail: string) => output.problems.push({ exportId: manifest.exportId, dataset: manifest.dataset, chunk: chunk.name, problem: kind, detail });
    const info = await storage.stat(key);
    if (!info) {
      problem('missing', `${key} is missing`);
      continue;
    }
    if (info.sizeBytes !== chunk.storedBytes) {
      problem('size', `${key} has ${info.sizeBytes} bytes, the manifest says ${chunk.storedBytes}`);
      continue;
    }
    if (!sampled.has(index)) continue;
    output.hashed += 1;
    const { sha256 } = await hashObject(storage, key, signal);
    if (sha256 !== chunk.storedSha256) problem('sha256', `${key} has sha256 ${sha256}, the manifest says ${chunk.storedSha256}`);
  }
  return output;
}
