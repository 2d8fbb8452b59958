import type { ReplicationPlan, ReplicationStep } from './steps.ts';

export interface PlanSummary {
  full: number;
  incremental: number;
  upToDate: number;
  blocked: number;
  resume: number;
}

/** Steps per kind. A collapsed `-R` step counts once, however many datasets it carries. */
export function summarizePlan(plan: ReplicationPlan): PlanSummary {
  const count = (kind: ReplicationStep['kind']) => plan.steps.filter((step) => step.kind === kind).length;
  return { full: count('full'), incremental: count('incremental'), upToDate: count('up-to-date'), blocked: count('blocked'), resume: count('resume') };
}
