import type { ReplicationPlan, ReplicationStep } from './plan-replication.ts';

/** One human line per step: `full @s2 (tree)`, `incremental @s1 → @s2`, `blocked: ...`. */
export function describeStep(step: ReplicationStep): string {
  const tree = 'recursive' in step && step.recursive ? ' (whole tree, -R)' : '';
  switch (step.kind) {
    case 'full':
      return `full → @${step.to.name}${tree}${step.replace ? `, replacing ${step.replace.snapshotsToDestroy.length} destination snapshot(s)` : ''}`;
    case 'incremental':
      return `incremental @${step.from.name} → @${step.to.name}${tree}${step.rollback.length ? `, rolling back ${step.rollback.map((s) => `@${s.name}`).join(', ')}` : ''}`;
    case 'up-to-date':
      return `up to date at @${step.at.name}`;
    case 'blocked':
      return `blocked (${step.code}): ${step.reason}`;
  }
}

export function summarizePlan(plan: ReplicationPlan): { full: number; incremental: number; upToDate: number; blocked: number } {
  const count = (kind: ReplicationStep['kind']) => plan.steps.filter((step) => step.kind === kind).length;
  return { full: count('full'), incremental: count('incremental'), upToDate: count('up-to-date'), blocked: count('blocked') };
}
