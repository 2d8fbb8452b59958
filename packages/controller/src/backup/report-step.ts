import type { ReplicationStep } from '@zfs-fleet/plan';
import type { StepReport } from './run-report.ts';

/** A plan step as reports show it: names instead of snapshot refs, what it destroys spelled out. */
export function reportStep(step: ReplicationStep): StepReport {
  const base = {
    dataset: step.dataset,
    destination: step.destination,
    ...(step.warnings?.length ? { warnings: step.warnings } : {}),
    ...(step.abortPartialReceive ? { abortsPartialReceive: step.abortPartialReceive.snapshot } : {}),
  };
  switch (step.kind) {
    case 'full':
      return { ...base, action: 'full', recursive: step.recursive, to: step.to.name, ...(step.replace ? { destroys: step.replace.snapshotsToDestroy.map((s) => s.name) } : {}) };
    case 'incremental':
      return { ...base, action: 'incremental', recursive: step.recursive, from: step.from.name, to: step.to.name, ...(step.rollback.length ? { destroys: step.rollback.map((s) => s.name) } : {}) };
    case 'up-to-date':
      return { ...base, action: 'up-to-date', to: step.at.name };
    case 'resume':
      return { ...base, action: 'resume', ...(step.from ? { from: step.from.name } : {}), ...(step.to ? { to: step.to.name } : {}) };
    case 'blocked':
      return { ...base, action: 'blocked', code: step.code, reason: step.reason };
  }
}
