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
    const legs = transferLegs(transfer).map((leg) => ({ leg, commands: buildTransferCommands(leg, source, input.peerZfs) }));
    const estimatedBytes =
      (source.sendEstimate
        ? await estimateLegs(
            ctx,
            legs.map(({ commands }) => commands.send),
          )
        : undefined) ?? transfer.sizeHint;
    yield { type: 'start', index, dataset: transfer.dataset, kind, ...(estimatedBytes !== undefined ? { estimatedBytes } : {}) };
    let earlierLegs = 0;
    let bytes = 0;
    let durationMs = 0;
    for (const { leg, commands } of legs) {
      const running = ctx.streamTransfer(leg, commands, {
        zfs: ctx.zfs,
        logger: ctx.logger,
        peer: input.peer,
        wire: input.wire,
        sourceTools: await ctx.tools(),
        peerTools: input.peerTools,
        ...(signal ? { signal } : {}),
        onBytes: (total) => {
          bytes = earlierLegs + total;
        },
      });
      yield* progressUntilSettled(running, index, () => bytes);
      const outcome = await running.catch(async (error: unknown) => {
        // A broken stream the peer keeps (recv -s) resumes from this snapshot: hold it, so no
        // pruner can make the partial state useless before the next run finishes it.
        if (source.holds && input.peerZfs.resumableReceive && leg.to && !leg.resumeToken) {
          await ctx.zfs.run(['hold', ...(leg.recursive ? ['-r'] : []), holdTag(input.peer.name), `${leg.dataset}@${leg.to}`], { allowFailure: true });
        }
        throw error;
      });
      if (source.holds && leg.to) await moveBaseHold(ctx, leg, input.peer.name);
      earlierLegs += outcome.bytes;
      bytes = earlierLegs;
      durationMs += outcome.durationMs;
    }
    const result: TransferResult = { dataset: transfer.dataset, kind, ...(transfer.from ? { from: transfer.from } : {}), ...(transfer.to ? { to: transfer.to } : {}), bytes, durationMs };
    results.push(result);
    yield { type: 'transferred', index, result };
  }
  yield { type: 'done', results, zfsCalls: ctx.zfs.calls().total };
}

/**
 * The streams one transfer takes: one, or for a full that keeps history, the oldest snapshot in
 * full and then `-I` from it to the target. The second needs no `-F`: nothing can have changed
 * the copy received unmounted a moment before.
 */
export function transferLegs(transfer: Transfer): Transfer[] {
  const { history, ...plain } = transfer;
  if (!history || plain.from || plain.resumeToken || history === plain.to) return [plain];
  return [
    { ...plain, to: history },
    { ...plain, from: history, force: false },
  ];
}

/** `zfs send -nP` of every leg, summed; undefined if zfs cannot size one of them. */
export async function estimateLegs(ctx: Pick<AgentContext, 'zfs'>, sends: readonly string[][]): Promise<number | undefined> {
  let total = 0;
  for (const send of sends) {
    const size = await estimateSend(ctx.zfs, send).catch(() => undefined);
    if (size === undefined) return undefined;
    total += size;
  }
  return total;
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
