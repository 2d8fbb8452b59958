/*
 * The public face of @zfs-fleet/protocol: what the agent and the controller share. Anything
 * under ./internal is the transport's own machinery (frames, line reading, backpressure) and is
 * not imported from outside this package; only the names below are.
 */

// Errors: one class, a closed union of codes, rebuilt from the wire.
export { FLEET_ERROR_CODES, FleetError, isFleetErrorCode, toFleetError } from './errors.ts';
export type { FleetErrorCode, FleetErrorShape } from './errors.ts';

// ZFS names and trees, as both ends see them.
export { explainDatasetName, isWithin, joinDataset, parentOf, parseDatasetName, parseSnapshotName, poolOf } from './names.ts';
export type { DatasetName, SnapshotName } from './names.ts';
export type { DatasetInfo, DatasetTree, SnapshotInfo, ZfsCapabilities } from './tree.ts';
export { FLEET_VERSION } from './version.ts';

/*
 * The fleet config. Only the controller reads it today, but it lives here because its parts
 * travel: the wire settings go to every agent in each `replicate` call, and per-host settings
 * that agents act on belong to the same schema rather than to a copy of it.
 */
export { AGENT_LAUNCHER_PATH, BackupEntrySchema, entrySettings, FleetConfigSchema, peersOf, SEQUENCE_STEPS, targetsOf, WireConfigSchema } from './config.ts';
export type { BackupEntry, EntrySettings, FleetConfig, Retention, SequenceStep, WireConfig } from './config.ts';

// Exports to targets without ZFS (issue #12): targets, settings, the manifest and its layout.
export { explainAgeRecipient } from './age-recipient.ts';
export { AgeRecipientSchema, EXPORT_DEFAULTS, ExportSettingsSchema, resolveExportSettings, TargetConfigSchema, TargetsSchema } from './export-config.ts';
export type { DirectoryTarget, ExportSettings, ExportSettingsInput, RcloneTarget, S3Target, TargetConfig } from './export-config.ts';
export { datasetExportsPrefix, EXPORT_LAYOUT, ExportChunkSchema, ExportIdSchema, ExportManifestSchema, exportFolder, MANIFEST_NAME, newExportId } from './export-manifest.ts';
export type { ExportChunk, ExportManifest } from './export-manifest.ts';
export { DeleteExportsInputSchema, ExportInputSchema, ListExportsInputSchema, RestoreExportInputSchema, VerifyExportsInputSchema } from './export-api.ts';
export type { ChunkProblem, ExportEvent, ExportInput, IncompleteExport, ListExportsOutput, RestoreExportEvent, RestoreExportInput, VerifyExportsOutput } from './export-api.ts';

// The agent's procedures: inputs and outputs, validated by the agent.
export {
  AuthorizeKeyInputSchema,
  DestroySnapshotsInputSchema,
  EnsureDatasetsInputSchema,
  FinishRestoreInputSchema,
  KeepUnmountedInputSchema,
  HelloInputSchema,
  HelloOutputSchema,
  ListTreeInputSchema,
  ReplicateInputSchema,
  SnapshotInputSchema,
  TrustHostKeysInputSchema,
  ZfsCallsOutputSchema,
  ResumeTokenInfoSchema,
  DecodeResumeTokensInputSchema,
  AbortPartialReceiveInputSchema,
  EstimateInputSchema,
} from './agent-api.ts';
export type { HelloOutput, ListTreeOutput, PeerEndpoint, ReplicateEvent, ReplicateInput, ResumeTokenInfo, Transfer, TransferResult, WireTools, ZfsCallsOutput } from './agent-api.ts';

// tRPC over a byte stream (an SSH channel's stdio): the agent serves, the controller links.
export { initFleetTRPC } from './internal/transport/create-fleet-trpc.ts';
export { serveStream } from './internal/transport/serve-stream.ts';
export { createStreamLink } from './internal/transport/stream-link.ts';
export type { StreamLink } from './internal/transport/stream-link.ts';
export { toFleetErrorFromClient } from './internal/transport/client-error.ts';

// Small shared helpers.
export { formatBytes } from './format-bytes.ts';
export { shellQuote, splitQuotedPipeline } from './shell-quote.ts';
export { writeFileAtomically } from './write-file-atomically.ts';

// An entry's sequence on its source host: entry locks, hooks, guarded pruning.
export {
  AcquireLocksInputSchema,
  HOOK_PHASES,
  HookResultSchema,
  LockHolderSchema,
  LockResultSchema,
  PruneSnapshotsInputSchema,
  PruneSnapshotsOutputSchema,
  ReleaseLocksInputSchema,
  RunHooksInputSchema,
} from './sequence-api.ts';
export type { HookPhase, HookResult, LockHolder, LockResult, PruneSnapshotsOutput } from './sequence-api.ts';
