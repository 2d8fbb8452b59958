export { planReplication } from './plan-replication.ts';
export type { BlockedStep, FullStep, IncrementalStep, PlanInput, ReplicationPlan, ReplicationStep, SnapshotRef, TargetChoice, UpToDateStep } from './steps.ts';
export { newestCommonSnapshot } from './newest-common-snapshot.ts';
export type { CommonSnapshot } from './newest-common-snapshot.ts';
export { isExcluded } from './is-excluded.ts';
export { selectDatasets } from './select-datasets.ts';
export type { Selection } from './select-datasets.ts';
