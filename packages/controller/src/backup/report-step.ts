import { snapshotsDestroyedBy, type ReplicationStep } from '@zfs-fleet/plan';
import type { StepReport } from './run-report.ts';

/** A plan step as reports show it: names instead of snapshot refs, what it destroys spelled out. */
export function reportStep(step: ReplicationStep): StepReport {
  const base = {
    dataset: step.dataset,
    destination: step.destination,
    ...(step.warnings?.length ? { warnings: step.warnings } : {}),
    ...(step.abortPartialReceive ? { abortsPartialReceive: step.abortPartialReceive.snapshot } : {}),
  };
  const destroyed = snapshotsDestroyedBy(step);
  const destroys = destroyed.length > 0 || (step.kind === 'full' && step.replace) ? { destroys: destroyed.map((s) => s.name) } : {};
  switch (step.kind) {
    case 'full':
      return { ...base, action: 'full', recursive: step.recursive, ...(step.history ? { from: step.history.name } : {}), to: step.to.name, ...destroys };
    case 'incremental':
      return { ...base, action: 'incremental', recursive: step.recursive, from: step.from.name, to: step.to.name, ...destroys };
    case 'up-to-date':
      return { ...base, action: 'up-to-date', to: step.at.name };
    case 'resume':
      return { ...base, action: 'resume', ...(step.from ? { from: step.from.name } : {}), ...(step.to ? { to: step.to.name } : {}) };
    case 'blocked':
      return { ...base, action: 'blocked', code: step.code, reason: step.reason };
  }
}
