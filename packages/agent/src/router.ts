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
  HelloOutputSchema,
  ListTreeInputSchema,
  ReplicateInputSchema,
  SnapshotInputSchema,
  ZfsCallsOutputSchema,
  type HelloOutput,
  type ListTreeOutput,
  type ZfsCallsOutput,
} from '@zfs-fleet/protocol';
import { initFleetTRPC } from '@zfs-fleet/protocol';
import { createDatasets, createSnapshots, destroySnapshot, listTree, setProperties } from '@zfs-fleet/zfs';
import type { AgentContext } from './context.ts';
import { authorizeKey, ensureReplicationKey, trustHostKeys } from './replication-keys.ts';
import { replicate } from './transfer/replicate.ts';

const t = initFleetTRPC<AgentContext>();

/** The agent's procedures. The controller imports only this router's type. */
export const agentRouter = t.router({
  hello: t.procedure
    .input(HelloInputSchema)
    .output(HelloOutputSchema)
    .query(async ({ ctx, input }): Promise<HelloOutput> => {
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

  zfsCalls: t.procedure.output(ZfsCallsOutputSchema).query(({ ctx }): ZfsCallsOutput => ctx.zfs.calls()),

  snapshot: t.procedure.input(SnapshotInputSchema).mutation(async ({ ctx, input }) => {
    // zfs takes each -r group atomically in one call: the recursive and the plain ones.
    for (const recursive of [true, false]) {
      const datasets = input.datasets.filter((entry) => entry.recursive === recursive).map((entry) => entry.dataset);
      if (datasets.length > 0)
        await createSnapshots(
          ctx.zfs,
          datasets.map((dataset) => ({ dataset, name: input.name })),
          { recursive },
        );
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

  replicate: t.procedure.input(ReplicateInputSchema).subscription(({ ctx, input, signal }) => replicate(ctx, input, signal)),
});

export type AgentRouter = typeof agentRouter;
