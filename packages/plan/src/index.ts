export { planReplication } from './plan-replication.ts';
export type { BlockedStep, FullStep, IncrementalStep, PlanInput, ReplicationPlan, ReplicationStep, SnapshotRef, TargetChoice, UpToDateStep } from './steps.ts';
export { newestCommonSnapshot } from './newest-common-snapshot.ts';
export type { CommonSnapshot } from './newest-common-snapshot.ts';
export { isExcluded } from './is-excluded.ts';
export { describeStep } from './describe-step.ts';
export { summarizePlan } from './summarize-plan.ts';
export type { PlanSummary } from './summarize-plan.ts';
