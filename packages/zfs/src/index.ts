export { createZfsExec, firstMeaningfulLine, zfsFailure } from './exec.ts';
export type { ZfsExec, ZfsExecOptions, ZfsRunOptions, ZfsRunResult, ZfsStream } from './exec.ts';
export { classifyZfsError } from './classify-error.ts';
export { parseTree, TREE_PROPERTIES } from './parse-tree.ts';
export { listTree, listTreeArgs } from './list-tree.ts';
export { buildRecvArgs, buildSendArgs, createDatasets, createSnapshots, destroySnapshot, estimateSend, parseSendEstimate, setProperties } from './commands.ts';
export type { RecvOptions, SendOptions, SnapshotRequest } from './commands.ts';
export { capabilitiesFromVersion, probeCapabilities } from './capabilities.ts';
export { holdTag, moveHold, moveHoldArgs } from './holds.ts';
