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
