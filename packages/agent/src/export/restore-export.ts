import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { type ExportManifest, exportFolder, FleetError, type RestoreExportEvent, type RestoreExportInput, WireConfigSchema } from '@zfs-fleet/protocol';
import { buildRecvArgs } from '@zfs-fleet/zfs';
import type { AgentContext } from '../context.ts';
import { replicationIdentity } from '../replication-keys.ts';
import { buildPeerSshArgs } from '../ssh-command.ts';
import { assertSucceeded, childOutcome, writeWithBackpressure } from './child-outcome.ts';
import { decompressArgv, decryptArgv } from './export-commands.ts';
import { createIdentityFifo } from './identity-fifo.ts';
import { createExportStorage } from './storage/create-export-storage.ts';
import type { ExportStorage } from './storage/export-storage.ts';
import { verifyExports } from './verify-exports.ts';

type IdentityFifo = Awaited<ReturnType<typeof createIdentityFifo>>;
import os from 'node:os';
import path from 'node:path';

/**
 * A chain back into a dataset. Every chunk of every export is checked (size and sha256) before
 * `zfs recv` starts; while streaming each chunk is hashed again and the stream's last bytes are
 * held back until its sha256 matches the manifest, so a chunk that changed meanwhile kills the
 * receive before zfs could commit anything.
 */
export async function* restoreExport(ctx: AgentContext, input: RestoreExportInput, signal: AbortSignal | undefined): AsyncGenerator<RestoreExportEvent> {
  const startedAt = performance.now();
  const storage = createExportStorage(input.target.config, { logger: ctx.logger, spoolDirectory: path.join(os.tmpdir(), 'zfs-fleet-spool') });
  const verified = await verifyExports(storage, input.host, input.chain, 100, signal);
  const problem = verified.problems[0];
  if (problem) {
    throw new FleetError(
      'EXPORT_CHUNK_INVALID',
      `chunk ${problem.chunk} of export ${problem.exportId} (${problem.dataset}) on target "${input.target.name}" is ${problem.problem === 'missing' ? 'missing' : `damaged (${problem.problem})`}: ${problem.detail}; nothing was received`,
      {
        hint: 'restore an older snapshot whose chain is intact, or export a new full',
        details: { target: input.target.name, ...problem, problems: verified.problems.length },
      },
    );
  }
  yield { type: 'verified', chunks: verified.chunks, bytes: input.chain.reduce((sum, manifest) => sum + manifest.stream.bytes, 0) };
  const identity = await createIdentityFifo(input.identity);
  try {
    for (const manifest of input.chain) {
      signal?.throwIfAborted();
      const streamBytes = await receiveOne(ctx, storage, input, manifest, identity, signal);
      yield { type: 'received', exportId: manifest.exportId, snapshot: manifest.snapshot.name, streamBytes };
    }
  } finally {
    await identity.remove();
  }
  yield { type: 'done', durationMs: Math.round(performance.now() - startedAt) };
}

async function startReceiver(input: RestoreExportInput): Promise<{ command: string; child: ChildProcess }> {
  const recv = ['zfs', ...buildRecvArgs({ target: input.into, noMount: true })];
  if (!input.peer) return { command: 'zfs recv', child: spawn(recv[0]!, recv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] }) };
  const argv = buildPeerSshArgs(input.peer, WireConfigSchema.parse({}), [recv], await replicationIdentity());
  return { command: 'ssh', child: spawn('ssh', argv, { stdio: ['pipe', 'ignore', 'pipe'] }) };
}

async function receiveOne(ctx: AgentContext, storage: ExportStorage, input: RestoreExportInput, manifest: ExportManifest, identity: IdentityFifo, signal: AbortSignal | undefined): Promise<number> {
  const log = ctx.logger.child({ exportId: manifest.exportId, into: input.into });
  const receiver = await startReceiver(input);
  const received = childOutcome(receiver.command, receiver.child);
  const recvInput = receiver.child.stdin!;
  recvInput.on('error', () => undefined);
  const decompressor = manifest.compression === 'zstd' ? spawn(decompressArgv()[0]!, decompressArgv().slice(1), { stdio: ['pipe', 'pipe', 'pipe'] }) : undefined;
  const decompressed = decompressor ? childOutcome('zstd', decompressor) : undefined;
  decompressor?.stdin.on('error', () => undefined);
  const killAll = () => {
    receiver.child.kill('SIGKILL');
    decompressor?.kill('SIGKILL');
  };
  signal?.addEventListener('abort', killAll, { once: true });
  try {
    const streamHash = createHash('sha256');
    let streamBytes = 0;
    let held: Buffer | undefined;
    const forward = async (data: Buffer) => {
      streamHash.update(data);
      streamBytes += data.length;
      if (held) await writeWithBackpressure(recvInput, held);
      held = data;
    };
    const plainOutput = decompressor
      ? (async () => {
          for await (const data of decompressor.stdout as AsyncIterable<Buffer>) await forward(data);
        })()
      : undefined;
    plainOutput?.catch(() => undefined);
    for (const chunk of manifest.chunks) {
      const key = `${exportFolder(input.host, manifest.dataset, manifest.exportId)}${chunk.name}`;
      await decryptChunk(storage, key, chunk, identity, decompressor ? (data) => writeWithBackpressure(decompressor.stdin, data) : forward, input.target.name, manifest.exportId);
    }
    decompressor?.stdin.end();
    await plainOutput;
    if (decompressed) assertSucceeded([await decompressed], `decompressing export ${manifest.exportId}`);
    const sha256 = streamHash.digest('hex');
    if (sha256 !== manifest.stream.sha256 || streamBytes !== manifest.stream.bytes) {
      throw new FleetError(
        'EXPORT_CHUNK_INVALID',
        `the stream of export ${manifest.exportId} on target "${input.target.name}" decrypts to ${streamBytes} bytes with sha256 ${sha256}; its manifest says ${manifest.stream.bytes} bytes, ${manifest.stream.sha256}; the receive was stopped before zfs committed it`,
        {
          details: { target: input.target.name, exportId: manifest.exportId },
        },
      );
    }
    if (held) await writeWithBackpressure(recvInput, held);
    recvInput.end();
    assertSucceeded([await received], `receiving export ${manifest.exportId} into ${input.into}`);
    log.info({ streamBytes, snapshot: manifest.snapshot.name }, 'export received');
    return streamBytes;
  } catch (error) {
    // A receiver that exited on its own says why (its stderr); the broken pipe it left does not.
    const exitedFirst = receiver.child.exitCode !== null || receiver.child.signalCode !== null;
    killAll();
    const outcome = await received;
    if (exitedFirst) assertSucceeded([outcome], `receiving export ${manifest.exportId} into ${input.into}`);
    throw error;
  } finally {
    signal?.removeEventListener('abort', killAll);
  }
}

/**
 * One chunk through `age -d`, the identity written into fd 3 and closed at once. The stored
 * bytes are hashed on the way in; a mismatch fails before the chunk's last bytes reach age.
 */
async function decryptChunk(storage: ExportStorage, key: string, chunk: ExportManifest['chunks'][number], identity: IdentityFifo, output: (data: Buffer) => Promise<void>, target: string, exportId: string): Promise<void> {
  const [command, ...args] = decryptArgv(identity.path);
  const age = spawn(command!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const decrypted = childOutcome('age', age);
  age.stdin.on('error', () => undefined);
  const fed = identity.feed(age);
  fed.catch(() => undefined);
  const plain = (async () => {
    for await (const data of age.stdout as AsyncIterable<Buffer>) await output(data);
  })();
  plain.catch(() => undefined);
  try {
    const hash = createHash('sha256');
    let bytes = 0;
    let last: Buffer | undefined;
    for await (const data of (await storage.read(key)) as Readable) {
      hash.update(data as Buffer);
      bytes += (data as Buffer).length;
      if (last) await writeWithBackpressure(age.stdin, last);
      last = data as Buffer;
    }
    if (bytes !== chunk.storedBytes || hash.digest('hex') !== chunk.storedSha256) {
      throw new FleetError('EXPORT_CHUNK_INVALID', `chunk ${chunk.name} of export ${exportId} on target "${target}" changed since it was checked; the receive was stopped`, { details: { target, exportId, chunk: chunk.name } });
    }
    if (last) await writeWithBackpressure(age.stdin, last);
    age.stdin.end();
    await fed;
    await plain;
    assertSucceeded([await decrypted], `decrypting chunk ${chunk.name} of export ${exportId}`);
  } catch (error) {
    const exitedFirst = age.exitCode !== null;
    age.kill('SIGKILL');
    if (exitedFirst) assertSucceeded([await decrypted], `decrypting chunk ${chunk.name} of export ${exportId}`);
    throw error;
  }
}
