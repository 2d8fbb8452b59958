import type pino from 'pino';
import { type ExportStep, planExport, planExportPrune, selectDatasets } from '@zfs-fleet/plan';
import { type DatasetInfo, type DatasetName, type ExportEvent, type ExportManifest, newExportId, toFleetErrorFromClient } from '@zfs-fleet/protocol';
import type { AgentSession } from '../agent/connect-agent.ts';
import type { ExportPruneReport, ExportUnitReport } from './export-report.ts';
import { type ExportUnit, targetRef } from './export-units.ts';
import { subscribeUntilDone } from './subscribe-until-done.ts';

export interface ExportHostInput {
  host: string;
  session: AgentSession;
  units: readonly ExportUnit[];
  now: () => Date;
  forceFull: boolean;
  dryRun: boolean;
  logger: pino.Logger;
  onEvent?: (unit: ExportUnitReport, event: ExportEvent) => void;
}

/** The datasets an entry exports, each its own chain: the root, and with `recursive` its children. */
function exportedDatasets(unit: ExportUnit, datasets: readonly DatasetInfo[]): DatasetInfo[] {
  return selectDatasets({ datasets: [...datasets] }, unit.entry.dataset, { recursive: unit.entry.recursive, exclude: unit.entry.exclude }).datasets;
}

/** Gathers, plans and (unless a dry run) runs one host's exports; one report per dataset and target, never throws. */
export async function exportHost(input: ExportHostInput): Promise<ExportUnitReport[]> {
  const reports: ExportUnitReport[] = [];
  for (const unit of input.units) {
    const base = { host: input.host, dataset: unit.entry.dataset, target: unit.target };
    try {
      const { tree } = await input.session.agent.listTree.query({ roots: [unit.entry.dataset] });
      const datasets = exportedDatasets(unit, tree.datasets);
      const listed = await input.session.agent.exports.list.query({ target: targetRef(unit), host: input.host, datasets: datasets.map((dataset) => dataset.name) });
      for (const dataset of datasets) {
        const manifests = listed.manifests.filter((manifest) => manifest.dataset === dataset.name);
        const step = planExport({ snapshots: dataset.snapshots, exports: manifests, fullEveryMs: unit.settings.fullEveryMs, incremental: unit.settings.incremental, nowMs: input.now().getTime(), forceFull: input.forceFull });
        const report = reportOf({ ...base, dataset: dataset.name }, step, input.dryRun);
        reports.push(report);
        if (input.dryRun || (step.kind !== 'full' && step.kind !== 'incremental')) continue;
        await runOne(input, unit, dataset.name, step, report);
      }
    } catch (error) {
      reports.push({ ...base, status: 'failed', error: toFleetErrorFromClient(error).toShape() });
    }
  }
  return reports;
}

function reportOf(base: Pick<ExportUnitReport, 'host' | 'dataset' | 'target'>, step: ExportStep, dryRun: boolean): ExportUnitReport {
  switch (step.kind) {
    case 'blocked':
      return { ...base, status: 'blocked', action: 'blocked', reason: step.reason };
    case 'up-to-date':
      return { ...base, status: 'up-to-date', action: 'up-to-date', snapshot: step.snapshot.name, exportId: step.exportId };
    case 'full':
      return { ...base, status: dryRun ? 'planned' : 'failed', action: 'full', snapshot: step.snapshot.name, reason: `${step.reason}: ${step.detail}` };
    case 'incremental':
      return { ...base, status: dryRun ? 'planned' : 'failed', action: 'incremental', snapshot: step.snapshot.name, base: { snapshot: step.base.name, exportId: step.base.exportId }, mode: step.mode };
  }
}

async function runOne(input: ExportHostInput, unit: ExportUnit, dataset: DatasetName, step: Extract<ExportStep, { kind: 'full' | 'incremental' }>, report: ExportUnitReport): Promise<void> {
  const now = input.now();
  const exportId = newExportId(now);
  report.exportId = exportId;
  try {
    const done = await subscribeUntilDone<ExportEvent, Extract<ExportEvent, { type: 'done' }>>(
      (handlers) =>
        input.session.agent.exports.run.subscribe(
          {
            target: targetRef(unit),
            host: input.host,
            dataset,
            snapshot: step.snapshot.name,
            exportId,
            createdAt: now.toISOString(),
            ...(step.kind === 'incremental' ? { base: { snapshot: step.base.name as never, guid: step.base.guid, exportId: step.base.exportId } } : {}),
            recipients: unit.settings.recipients,
            chunkSizeBytes: unit.settings.chunkSizeBytes,
            compression: unit.settings.compression,
          },
          handlers,
        ),
      (event): event is Extract<ExportEvent, { type: 'done' }> => event.type === 'done',
      (event) => input.onEvent?.(report, event),
    );
    Object.assign(report, summarize(done.manifest), { status: 'ok', durationMs: done.durationMs });
  } catch (error) {
    report.status = 'failed';
    report.error = toFleetErrorFromClient(error).toShape();
    input.logger.info({ err: report.error, dataset, target: unit.target }, 'export failed');
  }
}

function summarize(manifest: ExportManifest): Pick<ExportUnitReport, 'streamBytes' | 'storedBytes' | 'chunks'> {
  return { streamBytes: manifest.stream.bytes, storedBytes: manifest.chunks.reduce((sum, chunk) => sum + chunk.storedBytes, 0), chunks: manifest.chunks.length };
}

/** `keep.fulls` on each unit's target: plan (pure), then delete whole exports, manifest first. Never throws. */
export async function pruneExportsHost(input: Omit<ExportHostInput, 'forceFull' | 'onEvent'>): Promise<ExportPruneReport[]> {
  const reports: ExportPruneReport[] = [];
  for (const unit of input.units) {
    const base = { host: input.host, dataset: unit.entry.dataset, target: unit.target, kept: [], deleted: [] };
    if (unit.settings.keepFulls === undefined) {
      reports.push({ ...base, status: 'skipped' });
      continue;
    }
    try {
      const { tree } = await input.session.agent.listTree.query({ roots: [unit.entry.dataset] });
      const datasets = exportedDatasets(unit, tree.datasets).map((dataset) => dataset.name);
      const listed = await input.session.agent.exports.list.query({ target: targetRef(unit), host: input.host, datasets });
      for (const dataset of datasets) {
        const decisions = planExportPrune(
          listed.manifests.filter((manifest) => manifest.dataset === dataset),
          unit.settings.keepFulls,
        );
        const deleted = decisions.filter((decision) => decision.action === 'delete');
        const report: ExportPruneReport = {
          ...base,
          dataset,
          status: input.dryRun ? 'planned' : 'ok',
          keepFulls: unit.settings.keepFulls,
          kept: decisions.filter((decision) => decision.action === 'keep').map((decision) => decision.exportId),
          deleted: deleted.map(({ exportId, reason }) => ({ exportId, reason })),
        };
        reports.push(report);
        if (input.dryRun || deleted.length === 0) continue;
        try {
          await input.session.agent.exports.delete.mutate({ target: targetRef(unit), host: input.host, exports: deleted.map((decision) => ({ dataset, exportId: decision.exportId })) });
        } catch (error) {
          report.status = 'failed';
          report.error = toFleetErrorFromClient(error).toShape();
        }
      }
    } catch (error) {
      reports.push({ ...base, status: 'failed', error: toFleetErrorFromClient(error).toShape() });
    }
  }
  return reports;
}
