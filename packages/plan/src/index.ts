export { planReplication } from './plan-replication.ts';
export type { BlockedStep, FullStep, IncrementalStep, PlanInput, ReplicationPlan, ReplicationStep, SnapshotRef, TargetChoice, UpToDateStep } from './plan-replication.ts';
export { newestCommonSnapshot } from './common-snapshot.ts';
export type { CommonSnapshot } from './common-snapshot.ts';
export { isExcluded } from './exclude.ts';
export { describeStep, summarizePlan } from './describe.ts';
