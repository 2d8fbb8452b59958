import { TRPCClientError } from '@trpc/client';
import { z } from 'zod';
import { FLEET_ERROR_CODES, FleetError, toFleetError } from '../../errors.ts';
import { isAbortError } from './is-abort-error.ts';

const FleetErrorShapeSchema = z.object({
  code: z.enum(FLEET_ERROR_CODES),
  message: z.string(),
  hint: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/**
 * Any error from a tRPC client call as a FleetError:
 * - the agent's FleetError, rebuilt from the `data.fleet` shape (the TRPCClientError kept as cause);
 * - the link's own (SSH_CHANNEL_CLOSED when the channel went away, CANCELLED when aborted) as is;
 * - anything else as INTERNAL, the original kept as cause.
 */
export function toFleetErrorFromClient(error: unknown): FleetError {
  if (!(error instanceof TRPCClientError)) return toFleetError(error);
  const cause: unknown = error.cause;
  if (cause instanceof FleetError) return cause;
  const data: unknown = error.data;
  const shape = FleetErrorShapeSchema.safeParse(typeof data === 'object' && data !== null ? (data as { fleet?: unknown }).fleet : undefined);
  if (shape.success) return FleetError.fromShape(shape.data, error);
  if (isAbortError(cause)) return new FleetError('CANCELLED', error.message, { cause: error });
  return new FleetError('INTERNAL', error.message, { cause: error });
}
