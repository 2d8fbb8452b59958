import type { ReplicateEvent, ReplicateInput, Transfer, TransferResult } from '@zfs-fleet/protocol';
import { estimateSend, holdTag, moveHold } from '@zfs-fleet/zfs';
import type { AgentContext } from '../context.ts';
import { buildTransferCommands } from './build-transfer-commands.ts';

const PROGRESS_INTERVAL_MS = 500;

/**
 * The `replicate` subscription: each transfer in order, `start`, `progress` every
 * PROGRESS_INTERVAL_MS while bytes flow, `transferred`; then `done`. The first failure throws.
 */
export async function* replicate(ctx: AgentContext, input: ReplicateInput, signal?: AbortSignal): AsyncGenerator<ReplicateEvent> {
  const source = await ctx.capabilities();
  const results: TransferResult[] = [];
  for (const [index, transfer] of input.transfers.entries()) {
    const kind = transfer.resumeToken ? 'resume' : transfer.from ? 'incremental' : 'full';
    const commands = buildTransferCommands(transfer, source, input.peerZfs);
    const estimatedBytes = (source.sendEstimate ? await estimateSend(ctx.zfs, commands.send).catch(() => undefined) : undefined) ?? transfer.sizeHint;
    yield { type: 'start', index, dataset: transfer.dataset, kind, ...(estimatedBytes !== undefined ? { estimatedBytes } : {}) };
    let bytes = 0;
    const running = ctx.streamTransfer(transfer, commands, {
      zfs: ctx.zfs,
      logger: ctx.logger,
      peer: input.peer,
      wire: input.wire,
      sourceTools: await ctx.tools(),
      peerTools: input.peerTools,
      ...(signal ? { signal } : {}),
      onBytes: (total) => {
        bytes = total;
      },
    });
    yield* progressUntilSettled(running, index, () => bytes);
    const outcome = await running.catch(async (error: unknown) => {
      // A broken stream the peer keeps (recv -s) resumes from this snapshot: hold it, so no
      // pruner can make the partial state useless before the next run finishes it.
      if (source.holds && input.peerZfs.resumableReceive && transfer.to && !transfer.resumeToken) {
        await ctx.zfs.run(['hold', ...(transfer.recursive ? ['-r'] : []), holdTag(input.peer.name), `${transfer.dataset}@${transfer.to}`], { allowFailure: true });
      }
      throw error;
    });
    if (source.holds && transfer.to) await moveBaseHold(ctx, transfer, input.peer.name);
    const result: TransferResult = { dataset: transfer.dataset, kind, ...(transfer.from ? { from: transfer.from } : {}), ...(transfer.to ? { to: transfer.to } : {}), bytes: outcome.bytes, durationMs: outcome.durationMs };
    results.push(result);
    yield { type: 'transferred', index, result };
  }
  yield { type: 'done', results, zfsCalls: ctx.zfs.calls().total };
}

/** A `progress` event every interval until `running` settles (however it settles). */
async function* progressUntilSettled(running: Promise<unknown>, index: number, bytesSoFar: () => number): AsyncGenerator<ReplicateEvent> {
  let settled = false;
  void running.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  let lastBytes = 0;
  let lastAt = performance.now();
  while (!settled) {
    await Promise.race([running.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, PROGRESS_INTERVAL_MS))]);
    if (settled) return;
    const now = performance.now();
    const bytes = bytesSoFar();
    yield { type: 'progress', index, bytes, bytesPerSecond: ((bytes - lastBytes) * 1000) / Math.max(1, now - lastAt) };
    lastBytes = bytes;
    lastAt = now;
  }
}

/** Keeps the new base safe from everyone's `zfs destroy` (ours never targets it); a failure only warns. */
async function moveBaseHold(ctx: AgentContext, transfer: Transfer, peer: string): Promise<void> {
  await moveHold(ctx.zfs, { dataset: transfer.dataset, ...(transfer.from ? { from: transfer.from } : {}), to: transfer.to!, peer, recursive: transfer.recursive }).catch((error: unknown) =>
    ctx.logger.warn({ err: error, dataset: transfer.dataset }, 'could not move the hold on the incremental base'),
  );
}
