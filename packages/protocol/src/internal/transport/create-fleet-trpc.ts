import { initTRPC, type TRPCDefaultErrorData, type TRPCDefaultErrorShape, type TRPCError } from '@trpc/server';
import { FleetError, type FleetErrorShape } from '../../errors.ts';
import { isAbortError } from './is-abort-error.ts';

/**
 * The error shape every zfs-fleet procedure sends: tRPC's default shape (without stack)
 * plus the FleetError under `data.fleet`, which the controller turns back into a FleetError.
 */
export interface FleetTRPCErrorShape extends TRPCDefaultErrorShape {
  data: Omit<TRPCDefaultErrorData, 'stack'> & { fleet: FleetErrorShape };
}

/**
 * The one `initTRPC` of zfs-fleet, used by the agent (and by tests) so that the error shape
 * on the wire has a single definition. `isDev: false` keeps stack traces off the wire.
 */
export function initFleetTRPC<Ctx extends object>() {
  return initTRPC.context<Ctx>().create({ isDev: false, errorFormatter: formatFleetErrorShape });
}

/** tRPC's error formatter for zfs-fleet: puts a FleetError shape under `data.fleet`. */
export function formatFleetErrorShape(opts: { shape: TRPCDefaultErrorShape; error: TRPCError; path: string | undefined }): FleetTRPCErrorShape {
  const { shape, error, path } = opts;
  const { stack: _stack, ...data } = shape.data;
  return { ...shape, data: { ...data, fleet: fleetShapeOf(error, path) } };
}

function fleetShapeOf(error: TRPCError, path: string | undefined): FleetErrorShape {
  const cause: unknown = error.cause;
  if (cause instanceof FleetError) return cause.toShape();
  const subject = path === undefined ? 'the agent' : `procedure "${path}"`;
  if (isAbortError(cause)) {
    return new FleetError('CANCELLED', `The call to ${subject} was cancelled.`).toShape();
  }
  // Not a FleetError: a bug or an unexpected failure. The message travels, the stack does not.
  return new FleetError('INTERNAL', `Unexpected failure in ${subject}: ${error.message}`, {
    hint: "This is likely a bug in zfs-fleet: check the agent's log (its stderr) on that host.",
    details: { trpcCode: error.code },
  }).toShape();
}
