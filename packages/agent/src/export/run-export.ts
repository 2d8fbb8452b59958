import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { datasetExportsPrefix, type ExportChunk, type ExportEvent, type ExportInput, type ExportManifest, exportFolder, EXPORT_LAYOUT, FLEET_VERSION, FleetError, MANIFEST_NAME } from '@zfs-fleet/protocol';
import { listTree } from '@zfs-fleet/zfs';
import type { AgentContext } from '../context.ts';
import { type ChunkEncoder, startChunkEncoder } from './chunk-encoder.ts';
import { cleanIncompleteUploads } from './incomplete-uploads.ts';
import { chunkName, exportCompression, exportSendArgs } from './export-commands.ts';
import { createExportStorage } from './storage/create-export-storage.ts';
import type { ExportStorage } from './storage/export-storage.ts';

/** A multipart upload older than this was killed, not in progress. */
const INCOMPLETE_UPLOAD_AGE_MS = 86_400_000;

/** Chunks being finished (hashed, stored) while the next one encodes: one in flight keeps both cores busy. */
const FINISHING_AT_ONCE = 1;

/**
 * One export on the source host: `zfs send` → chunks of `chunkSizeBytes` raw bytes → `[zstd |]
 * age` into spool files → the target, then `manifest.json`, last: until it is there, the export
 * does not exist for planning, restore or prune. On failure every object it wrote is deleted.
 */
export async function* runExport(ctx: AgentContext, input: ExportInput, signal: AbortSignal | undefined): AsyncGenerator<ExportEvent> {
  const startedAt = performance.now();
  const storage = createExportStorage(input.target.config, { logger: ctx.logger, spoolDirectory: path.join(os.tmpdir(), 'zfs-fleet-spool') });
  const log = ctx.logger.child({ dataset: input.dataset, target: input.target.name, exportId: input.exportId });
  const tools = await ctx.tools();
  if (!tools.age) throw new FleetError('TOOL_MISSING', `"age" is not installed on this host, so exports to "${input.target.name}" cannot be encrypted`, { hint: 'install it (Debian: apt install age)' });

  const { dataset, snapshot, base } = await resolveSnapshots(ctx, input);
  const raw = dataset.encrypted === true;
  const compression = exportCompression(input.compression, raw);
  if (compression === 'zstd' && !tools.zstd) throw new FleetError('TOOL_MISSING', '"zstd" is not installed on this host', { hint: 'install it (Debian: apt install zstd), or set exports.compression: none' });
  const sendArgs = exportSendArgs(input, raw);
  const folder = exportFolder(input.host, input.dataset, input.exportId);
  // Reaches the target (a missing directory, an unreachable endpoint) before anything is spooled.
  await storage.list(folder);
  // Every export run clears what killed uploads of this dataset left on an object store, after a day.
  const cleaned = await cleanIncompleteUploads(storage, datasetExportsPrefix(input.host, input.dataset), new Date(Date.parse(input.createdAt) - INCOMPLETE_UPLOAD_AGE_MS));
  if (cleaned.aborted.length > 0) log.warn({ aborted: cleaned.aborted }, 'incomplete multipart uploads older than a day aborted');
  const spool = path.join(storage.spoolDirectory ?? path.join(os.tmpdir(), 'zfs-fleet-spool'), input.exportId);
  await mkdir(spool, { recursive: true, mode: 0o700 });
  yield { type: 'start', dataset: input.dataset, target: input.target.name, exportId: input.exportId, kind: base ? 'incremental' : 'full', estimatedBytes: dataset.referencedBytes };

  const stored: string[] = [];
  const abort = new AbortController();
  const onAbort = () => abort.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const send = ctx.zfs.spawn(sendArgs, { signal: abort.signal });
  const encoders: ChunkEncoder[] = [];
  try {
    const streamHash = createHash('sha256');
    let streamBytes = 0;
    let current: ChunkEncoder | undefined;
    const finishing = new Map<number, Promise<ExportChunk>>();
    const chunks: Promise<ExportChunk>[] = [];
    const finishChunk = (encoder: ChunkEncoder) => {
      const done = storeChunk(encoder, storage, `${folder}${encoder.name}`).then((chunk) => {
        stored.push(`${folder}${encoder.name}`);
        finishing.delete(encoder.index);
        return chunk;
      });
      // Failures surface through `chunks` below; this copy only keeps the limit.
      done.catch(() => undefined);
      finishing.set(encoder.index, done);
      chunks.push(done);
    };
    let reportedAt = 0;
    for await (const data of send.stdout as AsyncIterable<Buffer>) {
      streamBytes += data.length;
      let offset = 0;
      while (offset < data.length) {
        if (!current) {
          const index = encoders.length;
          const name = chunkName(index, compression);
          current = startChunkEncoder({ index, name, spoolPath: path.join(spool, name), recipients: input.recipients, compression });
          encoders.push(current);
        }
        const piece = data.subarray(offset, offset + (input.chunkSizeBytes - current.rawBytes));
        // The write is queued first, so zstd works on it while this thread hashes it.
        const written = current.write(piece);
        streamHash.update(piece);
        await written;
        offset += piece.length;
        if (current.rawBytes === input.chunkSizeBytes) {
          finishChunk(current);
          current = undefined;
          while (finishing.size > FINISHING_AT_ONCE) await Promise.race(finishing.values());
        }
      }
      const now = performance.now();
      if (now - reportedAt > 500) {
        reportedAt = now;
        yield { type: 'progress', bytes: streamBytes, bytesPerSecond: Math.round(streamBytes / ((now - startedAt) / 1000)) };
      }
    }
    const sent = await send.result;
    if (sent.error) throw sent.error;
    if (current) finishChunk(current);
    // zfs always sends something; an empty stream would mean a broken send that exited 0.
    if (chunks.length === 0) throw new FleetError('STREAM_FAILED', `zfs send of "${input.dataset}@${input.snapshot}" produced no bytes`);
    const manifest: ExportManifest = {
      format: EXPORT_LAYOUT,
      exportId: input.exportId,
      toolVersion: FLEET_VERSION,
      zfsVersion: (await ctx.capabilities()).version,
      host: input.host,
      dataset: input.dataset,
      kind: base ? 'incremental' : 'full',
      createdAt: input.createdAt,
      snapshot,
      ...(base ? { base } : {}),
      sendFlags: sendArgs.slice(1, -1),
      stream: { bytes: streamBytes, sha256: streamHash.digest('hex') },
      compression,
      encryption: { scheme: 'age', recipients: [...input.recipients] },
      chunkSizeBytes: input.chunkSizeBytes,
      chunks: await Promise.all(chunks),
    };
    const manifestPath = path.join(spool, MANIFEST_NAME);
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o644 });
    await storage.putFile(manifestPath, `${folder}${MANIFEST_NAME}`);
    const durationMs = Math.round(performance.now() - startedAt);
    log.info({ streamBytes, chunks: manifest.chunks.length, durationMs }, 'export committed');
    yield { type: 'done', manifest, durationMs };
  } catch (error) {
    abort.abort();
    for (const encoder of encoders) encoder.kill();
    await send.result;
    // Nothing half-written stays: no manifest was stored, and the chunks go too.
    await storage.delete(stored).catch((cleanup) => log.warn({ err: cleanup }, 'could not delete the chunks of a failed export'));
    log.error({ err: error }, 'export failed');
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await rm(spool, { recursive: true, force: true });
  }
}

async function storeChunk(encoder: ChunkEncoder, storage: ExportStorage, key: string): Promise<ExportChunk> {
  const { storedBytes, storedSha256 } = await encoder.finish();
  const { sizeBytes } = await storage.putFile(encoder.spoolPath, key);
  await rm(encoder.spoolPath, { force: true });
  if (sizeBytes !== storedBytes) throw new FleetError('TARGET_IO_FAILED', `${storage.description} holds ${sizeBytes} bytes of "${key}", ${storedBytes} were written`, { details: { key } });
  return { name: encoder.name, rawBytes: encoder.rawBytes, storedBytes, storedSha256 };
}

/** The snapshot (and base) as zfs has them now: guids in the manifest are zfs's, not the plan's. */
async function resolveSnapshots(ctx: AgentContext, input: ExportInput) {
  const { tree } = await listTree(ctx.zfs, [input.dataset], await ctx.capabilities());
  const dataset = tree.datasets.find((candidate) => candidate.name === input.dataset);
  if (!dataset) throw new FleetError('DATASET_NOT_FOUND', `"${input.dataset}" does not exist on this host`);
  const find = (name: string) => dataset.snapshots.find((candidate) => candidate.name === name);
  const snapshot = find(input.snapshot);
  if (!snapshot) throw new FleetError('SNAPSHOT_NOT_FOUND', `"${input.dataset}@${input.snapshot}" does not exist`);
  let base: ExportManifest['base'];
  if (input.base) {
    const found = find(input.base.snapshot);
    if (!found || found.guid !== input.base.guid) {
      throw new FleetError('BASE_MISSING', `the base of this incremental export, "${input.dataset}@${input.base.snapshot}" (guid ${input.base.guid}), is gone on the source`, { hint: 'the next run exports a full (or run with --force-full)' });
    }
    base = { name: found.name, guid: found.guid, exportId: input.base.exportId };
  }
  return { dataset, snapshot: { name: snapshot.name, guid: snapshot.guid, createtxg: String(snapshot.createtxg) }, base };
}
