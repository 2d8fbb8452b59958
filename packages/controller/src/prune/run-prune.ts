import type pino from 'pino';
import { gatherExportProtections } from '../export/export-protections.ts';
import { entrySettings, joinDataset, peersOf, toFleetErrorFromClient, type BackupEntry, type DatasetName, type DatasetTree, type FleetConfig, type FleetErrorShape, type PruneSnapshotsOutput } from '@zfs-fleet/protocol';
import { describePolicy, destroysOf, planPrune, type HostPrune } from '@zfs-fleet/plan';
import type { AgentSession } from '../agent/connect-agent.ts';
import type { Sessions } from '../run/gather-trees.ts';
import { SessionPool } from '../agent/session-pool.ts';
import { destinationOf, listUnits } from '../run/list-units.ts';
import { controllerHolder, lockEntries, unlockEntries } from '../sequence/entry-locks.ts';
import { createIsManaged, snapshotTime } from './managed-snapshots.ts';
import type { PruneReport, PruneUnitReport } from './prune-report.ts';

export interface PruneOptions {
  /** Source hosts whose entries are pruned, on the source and on each peer. */
  hosts: string[];
  dryRun: boolean;
  now: () => Date;
  only?: (host: string, dataset: string) => boolean;
  autoInstall?: boolean;
  /** A backup's sequence passes its sessions and holds the entry locks already. */
  sessions?: Sessions;
  locksHeld?: boolean;
  /** Opens a host's agent session; over SSH when absent (tests pass an in-process one). */
  connect?: (host: string) => Promise<AgentSession>;
}

/** One backup entry of one source host: what `fleet prune` works on. */
interface PruneUnit {
  host: string;
  entry: BackupEntry;
}

/** Pure: the entries to prune, in config order. */
export function listPruneUnits(config: FleetConfig, options: Pick<PruneOptions, 'hosts' | 'only'>): PruneUnit[] {
  return options.hosts.flatMap((host) => (config.hosts[host]?.backups ?? []).filter((entry) => options.only?.(host, entry.dataset) ?? true).map((entry) => ({ host, entry })));
}

type TreeRow = { tree: DatasetTree; timeZone: string } | { error: FleetErrorShape };

/**
 * Prunes snapshots by each entry's `keep:` (source) and `peerKeep:` (peers): lock (unless the
 * caller holds it), one `zfs get` per host, plan (pure), one guarded prune call per host,
 * unlock, report. A dry run takes no lock and destroys nothing. Never throws for an entry or a
 * host: each one's failure is its row, so the caller journals every prune that touched a host.
 */
export async function runPrune(config: FleetConfig, options: PruneOptions, logger: pino.Logger): Promise<PruneReport> {
  const startedAt = options.now();
  // Every copy's name is checked as a backup checks it, before any host is touched: a config zfs cannot take fails here (exit 2).
  listUnits(config, options);
  const ownPool = options.sessions ? undefined : new SessionPool(config, logger, { autoInstall: options.autoInstall === true, ...(options.connect ? { connect: options.connect } : {}) });
  const sessions: Sessions = options.sessions ?? ownPool!;
  const units = listPruneUnits(config, options);
  const reports: PruneUnitReport[] = [];
  const hostErrors = new Map<string, FleetErrorShape>();
  const locked = new Map<string, DatasetName[]>();
  const pruneCalls = new Map<string, number>();
  try {
    // Lock: an entry whose lock another run holds is refused (LOCKED) and left alone.
    const runnable: PruneUnit[] = [];
    const holder = controllerHolder('prune', startedAt);
    for (const host of options.hosts) {
      const hostUnits = units.filter((unit) => unit.host === host);
      if (hostUnits.length === 0) continue;
      if (options.dryRun || options.locksHeld) {
        runnable.push(...hostUnits);
        continue;
      }
      const session = await sessions.get(host).catch((error: unknown) => (hostErrors.set(host, toFleetErrorFromClient(error).toShape()), undefined));
      if (!session) {
        runnable.push(...hostUnits); // reported below as unreadable
        continue;
      }
      const results = await lockEntries(
        session,
        holder,
        hostUnits.map((unit) => ({ dataset: unit.entry.dataset, waitMs: entrySettings(config, unit.entry).lockWaitMs })),
        logger,
      );
      for (const [index, result] of results.entries()) {
        const unit = hostUnits[index]!;
        if (result.acquired) {
          runnable.push(unit);
          locked.set(host, [...(locked.get(host) ?? []), unit.entry.dataset]);
        } else {
          reports.push(failedUnit(unit, host, 'source', result.error!));
        }
      }
    }

    const trees = await gatherTrees(config, sessions, runnable);
    const protections = await gatherExportProtections(config, sessions, runnable);
    const plans: Array<{ unit: PruneUnit; plan: HostPrune[] }> = [];
    for (const unit of runnable) {
      // A tree zfs-fleet cannot plan (a copy's name over zfs's length) fails its entry alone, on record.
      try {
        plans.push({ unit, plan: planUnit(config, unit, trees, options.now().getTime(), protections.get(unit.entry)) });
      } catch (error) {
        reports.push(failedUnit(unit, unit.host, 'source', toFleetErrorFromClient(error).toShape()));
      }
    }

    const outcomes = new Map<string, PruneSnapshotsOutput | FleetErrorShape>();
    if (!options.dryRun) {
      const byHost = new Map<string, Array<{ dataset: DatasetName; snapshots: Array<{ name: string; guid: string }> }>>();
      for (const { plan } of plans) for (const side of plan) byHost.set(side.host, [...(byHost.get(side.host) ?? []), ...destroysOf(side)]);
      await Promise.all(
        [...byHost]
          .filter(([, datasets]) => datasets.length > 0)
          .map(async ([host, datasets]) => {
            try {
              const session = await sessions.get(host);
              const output = await session.agent.sequence.pruneSnapshots.mutate({ datasets: datasets as never });
              outcomes.set(host, output);
              pruneCalls.set(host, output.zfsCalls);
            } catch (error) {
              outcomes.set(host, toFleetErrorFromClient(error).toShape());
            }
          }),
      );
    }
    for (const { unit, plan } of plans) for (const side of plan) reports.push(reportSide(config, unit, side, options.dryRun, outcomes.get(side.host), trees));
  } finally {
    for (const [host, datasets] of locked) {
      const session = await sessions.get(host).catch(() => undefined);
      if (session) await unlockEntries(session, datasets, logger);
    }
    await ownPool?.closeAll();
  }
  const hosts = [...new Set(reports.map((unit) => unit.on))].map((host) => ({
    host,
    ...(pruneCalls.has(host) ? { pruneZfsCalls: pruneCalls.get(host)! } : {}),
    ...(hostErrors.has(host) ? { error: hostErrors.get(host)! } : {}),
  }));
  return {
    command: 'prune',
    dryRun: options.dryRun,
    startedAt: startedAt.toISOString(),
    durationMs: options.now().getTime() - startedAt.getTime(),
    ok: reports.every((unit) => unit.status !== 'failed'),
    units: reports,
    hosts,
  };
}

/** One `zfs get` per host: the sources' entries, and each peer's copies of all its sources. Never throws. */
async function gatherTrees(config: FleetConfig, sessions: Sessions, units: readonly PruneUnit[]): Promise<Map<string, TreeRow>> {
  const roots = new Map<string, Set<DatasetName>>();
  const add = (host: string, root: DatasetName) => roots.set(host, (roots.get(host) ?? new Set()).add(root));
  for (const { host, entry } of units) {
    add(host, entry.dataset);
    for (const peer of peersOf(config, entry)) add(peer, joinDataset(config.hosts[peer]!.receive!.root, host));
  }
  const rows = new Map<string, TreeRow>();
  await Promise.all(
    [...roots].map(async ([host, wanted]) => {
      try {
        const session: AgentSession = await sessions.get(host);
        const { tree } = await session.agent.listTree.query({ roots: [...wanted], withHolds: true });
        rows.set(host, { tree, timeZone: session.hello.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone });
      } catch (error) {
        rows.set(host, { error: toFleetErrorFromClient(error).toShape() });
      }
    }),
  );
  return rows;
}

function planUnit(config: FleetConfig, { host, entry }: PruneUnit, trees: ReadonlyMap<string, TreeRow>, nowMs: number, exportProtections: Map<string, string[]> | FleetErrorShape | undefined): HostPrune[] {
  const settings = entrySettings(config, entry);
  const side = (name: string) => {
    const row = trees.get(name);
    return row && 'tree' in row ? { tree: row.tree, timeZone: row.timeZone } : { tree: undefined, timeZone: 'UTC' };
  };
  return planPrune({
    host,
    entry: { dataset: entry.dataset, recursive: entry.recursive, exclude: entry.exclude },
    // Export targets that cannot be read hide the next incremental's base: the source is not pruned then.
    source: { ...side(host), policy: exportProtections && !(exportProtections instanceof Map) ? undefined : settings.keep },
    ...(exportProtections instanceof Map ? { exportProtections } : {}),
    peers: peersOf(config, entry).map((peer) => ({
      name: peer,
      ...side(peer),
      policy: settings.peerKeep,
      destinationOf: (dataset: DatasetName) => destinationOf(config.hosts[peer]!.receive!.root, host, dataset),
    })),
    nowMs,
    isManaged: createIsManaged(config.snapshotPrefix, settings.prune.include),
    timeOf: snapshotTime,
    // Export targets (#12) plug in here: `exportProtections` names what their chains still need under `keep.fulls`.
  });
}

function reportSide(config: FleetConfig, unit: PruneUnit, side: HostPrune, dryRun: boolean, outcome: PruneSnapshotsOutput | FleetErrorShape | undefined, trees: ReadonlyMap<string, TreeRow>): PruneUnitReport {
  const settings = entrySettings(config, unit.entry);
  const policy = side.role === 'source' ? settings.keep : settings.peerKeep;
  const base = { host: unit.host, dataset: unit.entry.dataset, on: side.host, role: side.role, ...(policy ? { policy: describePolicy(policy) } : {}) };
  if (side.skipped) {
    const row = trees.get(side.skipped.code === 'NO_POLICY' ? '' : side.host);
    const unreadable = side.skipped.code !== 'NO_POLICY';
    return {
      ...base,
      status: unreadable ? 'failed' : 'skipped',
      destroyed: 0,
      kept: 0,
      datasets: [],
      reason: side.skipped.reason,
      ...(unreadable ? { error: row && 'error' in row ? row.error : { code: 'SSH_CONNECT_FAILED' as const, message: side.skipped.reason } } : {}),
    };
  }
  const failure = outcome && 'code' in outcome ? outcome : undefined;
  const results = outcome && 'datasets' in outcome ? outcome.datasets : [];
  let destroyed = 0;
  let kept = 0;
  let error: FleetErrorShape | undefined = failure;
  const datasets = side.datasets.map((dataset) => {
    const result = results.find((candidate) => candidate.dataset === dataset.dataset);
    if (result?.error) error ??= result.error;
    return {
      dataset: dataset.dataset,
      snapshots: dataset.decisions.map((decision) => {
        const verdict = { name: decision.name, action: decision.action, reasons: decision.reasons };
        if (decision.action === 'keep') {
          kept += 1;
          return verdict;
        }
        if (dryRun) return verdict;
        if (result?.destroyed.includes(decision.name)) {
          destroyed += 1;
          return { ...verdict, outcome: 'destroyed' as const };
        }
        const skipped = result?.skipped.find((candidate) => candidate.name === decision.name);
        kept += 1;
        return skipped ? { ...verdict, outcome: 'skipped' as const, outcomeReason: skipped.reason } : { ...verdict, outcome: 'failed' as const, outcomeReason: error?.message ?? 'not destroyed' };
      }),
    };
  });
  return { ...base, status: error ? 'failed' : dryRun ? 'planned' : 'ok', destroyed, kept, datasets, ...(error ? { error } : {}) };
}

function failedUnit(unit: PruneUnit, on: string, role: 'source' | 'peer', error: FleetErrorShape): PruneUnitReport {
  return { host: unit.host, dataset: unit.entry.dataset, on, role, status: 'failed', destroyed: 0, kept: 0, datasets: [], reason: error.message, error };
}
