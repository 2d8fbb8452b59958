import { readFile } from 'node:fs/promises';
import type pino from 'pino';
import { byExportId, chainRoots, chainTo } from '@zfs-fleet/plan';
import { type DatasetName, type ExportManifest, FleetError, type FleetConfig, type FleetErrorShape, parentOf, type RestoreExportEvent, type SnapshotName, toFleetErrorFromClient } from '@zfs-fleet/protocol';
import type { AgentSession } from '../agent/connect-agent.ts';
import { SessionPool } from '../agent/session-pool.ts';
import { targetRef } from './export-units.ts';
import { subscribeUntilDone } from './subscribe-until-done.ts';

export interface ExportRestoreOptions {
  host: string;
  dataset: DatasetName;
  /** The export target's name in the config. */
  from: string;
  snapshot?: SnapshotName;
  to?: { host: string; dataset: DatasetName };
  /** The age identity file, read here on the controller; its contents go to the agent only through the call. */
  identityFile: string;
  dryRun: boolean;
  autoInstall?: boolean;
  connect?: (host: string) => Promise<AgentSession>;
  onEvent?: (event: RestoreExportEvent) => void;
}

export interface ExportRestoreReport {
  command: 'restore';
  ok: boolean;
  status: 'ok' | 'planned' | 'failed';
  host: string;
  dataset: string;
  from: string;
  target: { host: string; dataset: string };
  /** The exports received, full first. */
  chain: Array<{ exportId: string; kind: 'full' | 'incremental'; snapshot: string; guid: string; streamBytes: number; chunks: number }>;
  durationMs: number;
  state?: { mounted: boolean; readonly: boolean; keystatus?: string };
  error?: FleetErrorShape;
}

/** Pure: the chain that restores `snapshot` (default: the newest export), full first. */
export function chooseChain(manifests: readonly ExportManifest[], options: { snapshot?: string; from: string; dataset: string }): ExportManifest[] {
  const roots = chainRoots(manifests);
  const usable = manifests.filter((manifest) => roots.has(manifest.exportId)).sort(byExportId);
  const wanted = options.snapshot ? usable.filter((manifest) => manifest.snapshot.name === options.snapshot).at(-1) : usable.at(-1);
  const chain = wanted ? chainTo(usable, wanted.exportId) : undefined;
  if (!chain) {
    throw new FleetError('EXPORT_NOT_FOUND', options.snapshot ? `target "${options.from}" holds no complete export chain of "${options.dataset}@${options.snapshot}"` : `target "${options.from}" holds no complete export of "${options.dataset}"`, {
      hint: `\`fleet verify --target ${options.from}\` lists what it holds`,
      details: { target: options.from, dataset: options.dataset, exports: manifests.map((manifest) => `${manifest.exportId} @${manifest.snapshot.name}`) },
    });
  }
  return chain;
}

/**
 * Brings a dataset back from an export target: the source host's agent reads the chain, checks
 * every chunk, decrypts with the identity (given for this call only), and receives it here or,
 * over its replication key, on another host. Nothing is received if any chunk is bad.
 */
export async function runExportRestore(config: FleetConfig, options: ExportRestoreOptions, logger: pino.Logger): Promise<ExportRestoreReport> {
  const startedAt = performance.now();
  const to = options.to ?? { host: options.host, dataset: options.dataset };
  const report: ExportRestoreReport = { command: 'restore', ok: false, status: 'planned', host: options.host, dataset: options.dataset, from: options.from, target: to, chain: [], durationMs: 0 };
  const targetConfig = config.targets[options.from];
  if (!config.hosts[options.host]) throw new FleetError('USAGE', `Host "${options.host}" is not in the config.`);
  if (!targetConfig) throw new FleetError('USAGE', `"${options.from}" is not an export target in the config.`);
  if (!config.hosts[to.host]) throw new FleetError('USAGE', `Target host "${to.host}" is not in the config.`);
  // Read before any host is contacted: a wrong path fails at once, and nothing else reads it.
  const identity = await readFile(options.identityFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new FleetError('USAGE', `cannot read the age identity "${options.identityFile}": ${error.code ?? error.message}`, { hint: 'pass --identity FILE, the age private key matching the export recipients (`age-keygen -o FILE`)' });
  });
  if (!/AGE-SECRET-KEY-1/.test(identity)) throw new FleetError('USAGE', `"${options.identityFile}" holds no age identity (AGE-SECRET-KEY-1...)`, { hint: 'pass the file `age-keygen` wrote' });
  const sessions = new SessionPool(config, logger, { autoInstall: options.autoInstall === true, ...(options.connect ? { connect: options.connect } : {}) });
  const ref = targetRef({ target: options.from, targetConfig });
  try {
    const source = await sessions.get(options.host);
    const listed = await source.agent.exports.list.query({ target: ref, host: options.host, datasets: [options.dataset] });
    const chain = chooseChain(listed.manifests, { ...(options.snapshot ? { snapshot: options.snapshot } : {}), from: options.from, dataset: options.dataset });
    report.chain = chain.map((manifest) => ({ exportId: manifest.exportId, kind: manifest.kind, snapshot: manifest.snapshot.name, guid: manifest.snapshot.guid, streamBytes: manifest.stream.bytes, chunks: manifest.chunks.length }));
    if (options.dryRun) {
      report.ok = true;
      return report;
    }
    const receiver = to.host === options.host ? source : await sessions.get(to.host);
    const { tree } = await receiver.agent.listTree.query({ roots: [to.dataset] });
    if (tree.datasets.some((dataset) => dataset.name === to.dataset)) {
      throw new FleetError('DESTINATION_NOT_EMPTY', `"${to.host}:${to.dataset}" exists; a restore from an export target receives into a new dataset only`, { hint: 'choose another name with --to HOST:DATASET, or destroy it first' });
    }
    const parent = parentOf(to.dataset);
    if (parent?.includes('/')) await receiver.agent.ensureDatasets.mutate({ datasets: [parent] });
    await subscribeUntilDone<RestoreExportEvent, Extract<RestoreExportEvent, { type: 'done' }>>(
      (handlers) =>
        source.agent.exports.restore.subscribe(
          {
            target: ref,
            host: options.host,
            chain,
            identity,
            into: to.dataset,
            ...(receiver === source ? {} : { peer: { name: receiver.host, address: receiver.address, port: receiver.port, user: receiver.user } }),
          },
          handlers,
        ),
      (event): event is Extract<RestoreExportEvent, { type: 'done' }> => event.type === 'done',
      options.onEvent,
    );
    const { state } = await receiver.agent.finishRestore.mutate({ dataset: to.dataset, canmount: [{ dataset: to.dataset, value: 'on' }] });
    if (state) report.state = state;
    report.status = 'ok';
    report.ok = true;
  } catch (error) {
    report.status = 'failed';
    report.error = toFleetErrorFromClient(error).toShape();
    logger.info({ err: report.error }, 'restore from export target failed');
  } finally {
    await sessions.closeAll();
    report.durationMs = Math.round(performance.now() - startedAt);
  }
  return report;
}
