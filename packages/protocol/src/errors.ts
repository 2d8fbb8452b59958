/**
 * Every failure zfs-fleet reports carries one of these codes. The union is closed so that
 * callers (and the wire) can switch on it exhaustively; docs/errors.md lists each with its hint.
 */
export const FLEET_ERROR_CODES = [
  'CONFIG_INVALID',
  'CONFIG_NOT_FOUND',
  'USAGE',
  'DATASET_NAME_INVALID',
  'SNAPSHOT_NAME_INVALID',
  'DATASET_NOT_FOUND',
  'SNAPSHOT_NOT_FOUND',
  'DATASET_BUSY',
  'POOL_FULL',
  'PERMISSION_DENIED',
  'NO_COMMON_SNAPSHOT',
  'DESTINATION_NOT_EMPTY',
  'DESTINATION_AHEAD',
  'SNAPSHOT_NAME_CONFLICT',
  'DESTINATION_MODIFIED',
  'BASE_MISSING',
  'SSH_CONNECT_FAILED',
  'SSH_AUTH_FAILED',
  'SSH_HOST_KEY_UNKNOWN',
  'SSH_HOST_KEY_CHANGED',
  'SSH_CHANNEL_CLOSED',
  'AGENT_NOT_FOUND',
  'AGENT_VERSION_MISMATCH',
  'AGENT_PROTOCOL',
  'AGENT_RUNTIME_MISSING',
  'AGENT_INSTALL_FAILED',
  'STREAM_FAILED',
  'ZFS_FAILED',
  'ZFS_OUTPUT_INVALID',
  'ZFS_NOT_FOUND',
  'ENCRYPTION_UNSUPPORTED',
  'HOOK_FAILED',
  'LOCKED',
  'CANCELLED',
  'TIMEOUT',
  'TARGET_UNSUPPORTED',
  'TARGET_UNREACHABLE',
  'TARGET_IO_FAILED',
  'TARGET_OBJECT_MISSING',
  'EXPORT_CHUNK_INVALID',
  'EXPORT_NOT_FOUND',
  'TOOL_MISSING',
  'INTERNAL',
] as const;

export type FleetErrorCode = (typeof FLEET_ERROR_CODES)[number];

export interface FleetErrorOptions {
  /** What the user should do next, in one sentence. */
  hint?: string;
  cause?: unknown;
  /** Structured context that travels with the error (host, dataset, snapshots...). */
  details?: Record<string, unknown>;
}

/** The one error class of zfs-fleet: a stable code, a message naming its subject, a hint. */
export class FleetError extends Error {
  override readonly name: string = 'FleetError';
  readonly code: FleetErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: FleetErrorCode, message: string, options: FleetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  toShape(): FleetErrorShape {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }

  /** Rebuilds an error that crossed the wire as a shape. */
  static fromShape(shape: FleetErrorShape, cause?: unknown): FleetError {
    return new FleetError(shape.code, shape.message, { hint: shape.hint, details: shape.details, cause });
  }
}

/** The serialisable form of a FleetError: what travels in tRPC error data and `--json` output. */
export interface FleetErrorShape {
  code: FleetErrorCode;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
}

export function isFleetErrorCode(value: unknown): value is FleetErrorCode {
  return typeof value === 'string' && (FLEET_ERROR_CODES as readonly string[]).includes(value);
}

/** Any thrown value as a FleetError; unknown errors become INTERNAL with the original kept as cause. */
export function toFleetError(error: unknown): FleetError {
  if (error instanceof FleetError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new FleetError('INTERNAL', message, { cause: error });
}
