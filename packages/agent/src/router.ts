import os from 'node:os';
import {
  AbortPartialReceiveInputSchema,
  DecodeResumeTokensInputSchema,
  DestroySnapshotsInputSchema,
  EstimateInputSchema,
  EnsureDatasetsInputSchema,
  AuthorizeKeyInputSchema,
  TrustHostKeysInputSchema,
  FinishRestoreInputSchema,
  KeepUnmountedInputSchema,
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
import { initFleetTRPC, type ResumeTokenInfo } from '@zfs-fleet/protocol';
import { createDatasets, createSnapshots, decodeResumeToken, destroySnapshot, isNoResumableState, listTree, setProperties, zfsFailure } from '@zfs-fleet/zfs';
import { buildTransferCommands } from './transfer/build-transfer-commands.ts';
import type { AgentContext } from './context.ts';
import { authorizeKey, ensureReplicationKey, trustHostKeys } from './replication-keys.ts';
import { keepUnmounted, restoreCanmount } from './mounts.ts';
import { exportRouter } from './export/export-router.ts';
import { sequenceRouter } from './sequence-router.ts';
import { estimateLegs, replicate, transferLegs } from './transfer/replicate.ts';

const t = initFleetTRPC<AgentContext>();

/** The agent's procedures. The controller imports only this router's type. */
export const agentRouter = t.router({
  sequence: sequenceRouter,
  exports: exportRouter,

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
      return { agentVersion: FLEET_VERSION, nodeVersion: process.version, hostname: os.hostname(), zfs: await ctx.capabilities(), tools: await ctx.tools(), timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone };
    }),

  listTree: t.procedure.input(ListTreeInputSchema).query(async ({ ctx, input }): Promise<ListTreeOutput> => {
    return listTree(ctx.zfs, input.roots, await ctx.capabilities(), { holds: input.withHolds === true });
  }),

  zfsCalls: t.procedure.output(ZfsCallsOutputSchema).query(({ ctx }): ZfsCallsOutput => ctx.zfs.calls()),

  /** What the peers' resume tokens name, decoded here where they would be sent from. */
  decodeResumeTokens: t.procedure.input(DecodeResumeTokensInputSchema).query(async ({ ctx, input }): Promise<ResumeTokenInfo[]> => {
    if (!(await ctx.capabilities()).resumableReceive) return [];
    const decoded = await Promise.all(input.tokens.map((token) => decodeResumeToken(ctx.zfs, token)));
    return decoded.filter((info): info is ResumeTokenInfo => info !== undefined);
  }),

  /** `zfs send -nP` sizes for a plan's transfers (undefined where zfs cannot say). */
  estimate: t.procedure.input(EstimateInputSchema).query(async ({ ctx, input }): Promise<Array<number | null>> => {
    const source = await ctx.capabilities();
    if (!source.sendEstimate) return input.transfers.map(() => null);
    return Promise.all(
      input.transfers.map(
        async (transfer) =>
          (await estimateLegs(
            ctx,
            transferLegs(transfer).map((leg) => buildTransferCommands(leg, source, input.peerZfs).send),
          )) ?? null,
      ),
    );
  }),

  /** Drops a partial receive that can never be resumed (its snapshot is gone on the source); received snapshots stay. */
  abortPartialReceive: t.procedure.input(AbortPartialReceiveInputSchema).mutation(async ({ ctx, input }) => {
    const result = await ctx.zfs.run(['recv', '-A', input.dataset], { allowFailure: true });
    // Already gone (another run aborted it, or it was finished) is what we wanted.
    if (result.exitCode !== 0 && !isNoResumableState(result.stderr)) {
      throw zfsFailure(['recv', '-A', input.dataset], result.stderr, result.exitCode);
    }
    ctx.logger.warn({ dataset: input.dataset }, 'partial receive state aborted (zfs recv -A)');
    return { dataset: input.dataset, aborted: result.exitCode === 0 };
  }),

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

  finishRestore: t.procedure.input(FinishRestoreInputSchema).mutation(async ({ ctx, input }): Promise<{ dataset: string; state: { mounted: boolean; readonly: boolean; keystatus?: string } | null }> => {
    // sets readonly=off locally, so neither a received property nor an inherited one keeps it read-only
    await setProperties(ctx.zfs, input.dataset, { readonly: 'off' });
    await restoreCanmount(ctx, input.canmount);
    ctx.logger.info({ dataset: input.dataset }, 'restored dataset left read-write');
    // What the user gets, as zfs says it: a raw-received encrypted dataset stays locked (and
    // unmounted) until its key is loaded.
    const encryption = (await ctx.capabilities()).rawSend;
    const properties = ['mounted', 'readonly', ...(encryption ? ['keystatus', 'encryption'] : [])];
    const result = await ctx.zfs.run(['get', '-H', '-o', 'property,value', properties.join(','), input.dataset], { allowFailure: true });
    const values = new Map(
      result.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('\t') as [string, string]),
    );
    const keystatus = values.get('keystatus');
    if (result.exitCode !== 0 || !values.has('mounted')) return { dataset: input.dataset, state: null };
    return {
      dataset: input.dataset,
      state: {
        mounted: values.get('mounted') === 'yes',
        readonly: values.get('readonly') === 'on',
        ...(keystatus && keystatus !== '-' && values.get('encryption') !== 'off' ? { keystatus } : {}),
      },
    };
  }),

  keepUnmounted: t.procedure.input(KeepUnmountedInputSchema).mutation(async ({ ctx, input }) => ({ ok: await keepUnmounted(ctx, input.datasets) })),

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
