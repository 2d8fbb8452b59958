export { FLEET_ERROR_CODES, FleetError, isFleetErrorCode, toFleetError } from './errors.ts';
export type { FleetErrorCode, FleetErrorOptions, FleetErrorShape } from './errors.ts';
export {
  DatasetNameSchema,
  SnapshotNameSchema,
  explainDatasetName,
  explainSnapshotName,
  isDatasetName,
  isWithin,
  joinDataset,
  parentOf,
  parseDatasetName,
  parseSnapshotName,
  poolOf,
} from './names.ts';
export type { DatasetName, SnapshotName } from './names.ts';
export { DatasetInfoSchema, DatasetTreeSchema, SnapshotInfoSchema, ZfsCapabilitiesSchema } from './tree.ts';
export type { DatasetInfo, DatasetTree, SnapshotInfo, ZfsCapabilities } from './tree.ts';
export { FLEET_VERSION } from './version.ts';
export {
  AGENT_LAUNCHER_PATH,
  AgentConfigSchema,
  BackupEntrySchema,
  DurationSchema,
  FleetConfigSchema,
  HostConfigSchema,
  ReceiveConfigSchema,
  SshConfigSchema,
  WireConfigSchema,
} from './config.ts';
export type { BackupEntry, FleetConfig, HostConfig, WireConfig } from './config.ts';
export {
  DestroySnapshotsInputSchema,
  EnsureDatasetsInputSchema,
  HelloInputSchema,
  HelloOutputSchema,
  AuthorizeKeyInputSchema,
  TrustHostKeysInputSchema,
  FinishRestoreInputSchema,
  WireToolsSchema,
  ListTreeInputSchema,
  ListTreeOutputSchema,
  PeerEndpointSchema,
  ReplicateEventSchema,
  ReplicateInputSchema,
  SnapshotInputSchema,
  TransferResultSchema,
  TransferSchema,
  ZfsCallsOutputSchema,
} from './agent-api.ts';
export type { WireTools, HelloOutput, ListTreeOutput, PeerEndpoint, ReplicateEvent, ReplicateInput, Transfer, TransferResult, ZfsCallsOutput } from './agent-api.ts';
export { formatFleetErrorShape, initFleetTRPC } from './transport/create-fleet-trpc.ts';
export type { FleetTRPCErrorShape } from './transport/create-fleet-trpc.ts';
export { serveStream } from './transport/serve-stream.ts';
export type { ServeStreamOptions, StreamLogger } from './transport/serve-stream.ts';
export { createStreamLink } from './transport/stream-link.ts';
export type { StreamLink, StreamLinkOptions } from './transport/stream-link.ts';
export { toFleetErrorFromClient } from './transport/client-error.ts';
export { RequestFrameSchema, ResponseFrameSchema } from './transport/frame-schemas.ts';
export type { RequestFrame, ResponseFrame } from './transport/frame-schemas.ts';
export { formatBytes } from './format-bytes.ts';
export { shellQuote } from './shell-quote.ts';
export { writeFileAtomically } from './write-file-atomically.ts';
