import os from 'node:os';
import {
  DestroySnapshotsInputSchema,
  EnsureDatasetsInputSchema,
  AuthorizeKeyInputSchema,
  TrustHostKeysInputSchema,
  FinishRestoreInputSchema,
  FLEET_VERSION,
  FleetError,
  HelloInputSchema,
  ListTreeInputSchema,
  ReplicateInputSchema,
  SnapshotInputSchema,
  type HelloOutput,
  type ListTreeOutput,
  type ReplicateEvent,
  type TransferResult,
  type ZfsCallsOutput,
} from '@zfs-fleet/protocol';
import { initFleetTRPC } from '@zfs-fleet/protocol';
import { createDatasets, createSnapshots, destroySnapshot, estimateSend, listTree, moveHold, setProperties } from '@zfs-fleet/zfs';
import type { AgentContext } from './context.ts';
import { authorizeKey, ensureReplicationKey, trustHostKeys } from './replication-keys.ts';
import { buildTransferCommands, streamTransfer } from './stream-transfer.ts';

const t = initFleetTRPC<AgentContext>();

const PROGRESS_INTERVAL_MS = 500;

/** The agent's procedures. The controller imports only this router's type. */
export const agentRouter = t.router({
  hello: t.procedure.input(HelloInputSchema).query(async ({ ctx, input }): Promise<HelloOutput> => {
    if (input.controllerVersion !== FLEET_VERSION) {
      throw new FleetError('AGENT_VERSION_MISMATCH', `The agent on "${os.hostname()}" is version ${FLEET_VERSION}; the controller is version ${input.controllerVersion}.`, {
        hint: 'Run `fleet agent install HOST` to install the matching agent.',
        details: { agentVersion: FLEET_VERSION, controllerVersion: input.controllerVersion },
      });
    }
    return { agentVersion: FLEET_VERSION, nodeVersion: process.version, hostname: os.hostname(), zfs: await ctx.capabilities(), tools: await ctx.tools() };
  }),

  listTree: t.procedure.input(ListTreeInputSchema).query(async ({ ctx, input }): Promise<ListTreeOutput> => {
    return listTree(ctx.zfs, input.roots, await ctx.capabilities());
  }),

  zfsCalls: t.procedure.query(({ ctx }): ZfsCallsOutput => ctx.zfs.calls()),

  snapshot: t.procedure.input(SnapshotInputSchema).mutation(async ({ ctx, input }) => {
    // zfs takes each -r group atomically in one call: the recursive and the plain ones.
    for (const recursive of [true, false]) {
      const datasets = input.datasets.filter((entry) => entry.recursive === recursive).map((entry) => entry.dataset);
      if (datasets.length > 0) await createSnapshots(ctx.zfs, datasets.map((dataset) => ({ dataset, name: input.name })), { recursive });
    }
    ctx.logger.info({ snapshot: input.name, datasets: input.datasets.length }, 'snapshots created');
    return { name: input.name };
  }),

  ensureDatasets: t.procedure.input(EnsureDatasetsInputSchema).mutation(async ({ ctx, input }) => {
    await createDatasets(ctx.zfs, input.datasets, input.properties ? { properties: input.properties } : {});
    return { created: input.datasets };
  }),

  finishRestore: t.procedure.input(FinishRestoreInputSchema).mutation(async ({ ctx, input }) => {
    // sets readonly=off locally, so neither a received property nor an inherited one keeps it read-only
    await setProperties(ctx.zfs, input.dataset, { readonly: 'off' });
    ctx.logger.info({ dataset: input.dataset }, 'restored dataset left read-write');
    return { dataset: input.dataset };
  }),

  replicationKey: t.procedure.mutation(async ({ ctx }) => {
    const publicKey = await ensureReplicationKey(`zfs-fleet:${os.hostname()}`);
    ctx.logger.info('replication key ready');
    return { publicKey };
  }),

  authorizeKey: t.procedure.input(AuthorizeKeyInputSchema).mutation(async ({ ctx, input }) => {
    const line = await authorizeKey(input);
    ctx.logger.info({ tag: input.tag, forcedCommand: input.forcedCommand }, 'replication key authorized');
    return { line };
  }),

  trustHostKeys: t.procedure.input(TrustHostKeysInputSchema).mutation(async ({ input }) => {
    await trustHostKeys(input.entries);
    return { trusted: input.entries.length };
  }),

  destroySnapshots: t.procedure.input(DestroySnapshotsInputSchema).mutation(async ({ ctx, input }) => {
    // Destroy only what the plan listed, and only if each guid still matches what was planned.
    const { tree } = await listTree(ctx.zfs, [input.dataset], await ctx.capabilities());
    const dataset = tree.datasets.find((d) => d.name === input.dataset);
    for (const wanted of input.snapshots) {
      const actual = dataset?.snapshots.find((s) => s.name === wanted.name);
      if (!actual || actual.guid !== wanted.guid) {
        throw new FleetError('SNAPSHOT_NOT_FOUND', `Refusing to destroy "${input.dataset}@${wanted.name}": it is not the snapshot the plan saw (guid ${wanted.guid}).`, {
          hint: 'The destination changed since planning; run the command again.',
        });
      }
    }
    for (const wanted of input.snapshots) await destroySnapshot(ctx.zfs, input.dataset, wanted.name);
    ctx.logger.warn({ dataset: input.dataset, snapshots: input.snapshots.map((s) => s.name) }, 'snapshots destroyed on request');
    return { destroyed: input.snapshots.length };
  }),

  replicate: t.procedure.input(ReplicateInputSchema).subscription(async function* ({ ctx, input, signal }): AsyncGenerator<ReplicateEvent> {
    const source = await ctx.capabilities();
    const results: TransferResult[] = [];
    for (const [index, transfer] of input.transfers.entries()) {
      const kind = transfer.resumeToken ? 'resume' : transfer.from ? 'incremental' : 'full';
      const estimatedBytes = (source.sendEstimate ? await estimateSend(ctx.zfs, buildTransferCommands(transfer, source, input.peerZfs).send).catch(() => undefined) : undefined) ?? transfer.sizeHint;
      yield { type: 'start', index, dataset: transfer.dataset, kind, ...(estimatedBytes !== undefined ? { estimatedBytes } : {}) };
      let bytes = 0;
      let lastBytes = 0;
      let lastAt = performance.now();
      const running = streamTransfer(transfer, {
        zfs: ctx.zfs,
        logger: ctx.logger,
        peer: input.peer,
        wire: input.wire,
        source,
        destination: input.peerZfs,
        sourceTools: await ctx.tools(),
        peerTools: input.peerTools,
        ...(signal ? { signal } : {}),
        onBytes: (total) => { bytes = total; },
      });
      let settled = false;
      void running.then(() => { settled = true; }, () => { settled = true; });
      while (!settled) {
        await Promise.race([running.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, PROGRESS_INTERVAL_MS))]);
        if (settled) break;
        const now = performance.now();
        yield { type: 'progress', index, bytes, bytesPerSecond: ((bytes - lastBytes) * 1000) / Math.max(1, now - lastAt) };
        lastBytes = bytes;
        lastAt = now;
      }
      const outcome = await running;
      if (source.holds && transfer.to) {
        // Keeps the new base safe from everyone's `zfs destroy` (ours never targets it).
        await moveHold(ctx.zfs, { dataset: transfer.dataset, ...(transfer.from ? { from: transfer.from } : {}), to: transfer.to, peer: input.peer.name, recursive: transfer.recursive }).catch((error: unknown) =>
          ctx.logger.warn({ err: error, dataset: transfer.dataset }, 'could not move the hold on the incremental base'),
        );
      }
      const result: TransferResult = { dataset: transfer.dataset, kind, ...(transfer.from ? { from: transfer.from } : {}), ...(transfer.to ? { to: transfer.to } : {}), bytes: outcome.bytes, durationMs: outcome.durationMs };
      results.push(result);
      yield { type: 'transferred', index, result };
    }
    yield { type: 'done', results, zfsCalls: ctx.zfs.calls().total };
  }),
});

export type AgentRouter = typeof agentRouter;
