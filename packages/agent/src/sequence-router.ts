import os from 'node:os';
import { AcquireLocksInputSchema, initFleetTRPC, PruneSnapshotsInputSchema, ReleaseLocksInputSchema, RunHooksInputSchema, type HookResult, type LockResult, type PruneSnapshotsOutput } from '@zfs-fleet/protocol';
import type { AgentContext } from './context.ts';
import { runHooks } from './hooks/run-hooks.ts';
import { pruneSnapshots } from './prune/prune-snapshots.ts';

const t = initFleetTRPC<AgentContext>();

/** The agent's side of an entry's sequence: lock, hooks, prune, unlock. */
export const sequenceRouter = t.router({
  lock: t.procedure.input(AcquireLocksInputSchema).mutation(async ({ ctx, input }): Promise<LockResult[]> => {
    const results = await ctx.locks.acquire(input.holder, input.entries);
    for (const result of results) {
      if (result.takenOver) ctx.logger.warn({ dataset: result.dataset, previous: result.takenOver }, 'stale entry lock taken over');
    }
    return results;
  }),

  unlock: t.procedure.input(ReleaseLocksInputSchema).mutation(async ({ ctx, input }) => {
    await ctx.locks.release(input.datasets);
    return { released: input.datasets.length };
  }),

  runHooks: t.procedure.input(RunHooksInputSchema).mutation(async ({ ctx, input, signal }): Promise<HookResult[]> => {
    return runHooks(input.commands, {
      env: { ...input.env, FLEET_PHASE: input.phase, FLEET_AGENT_HOST: os.hostname() },
      timeoutMs: input.timeoutMs,
      stopOnFailure: input.stopOnFailure,
      logger: ctx.logger.child({ phase: input.phase, dataset: input.env.FLEET_DATASET }),
      ...(signal ? { signal } : {}),
    });
  }),

  pruneSnapshots: t.procedure.input(PruneSnapshotsInputSchema).mutation(async ({ ctx, input }): Promise<PruneSnapshotsOutput> => {
    return pruneSnapshots(ctx.zfs, await ctx.capabilities(), input, ctx.logger);
  }),
});
