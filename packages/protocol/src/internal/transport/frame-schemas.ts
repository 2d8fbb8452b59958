import { z } from 'zod';

/**
 * Frames of the stdio transport: one JSON object per line, in the message format of tRPC's
 * WebSocket protocol, so that anyone who knows tRPC can read a captured session.
 */

const FrameIdSchema = z.union([z.number(), z.string()]);
const JsonRpcSchema = z.literal('2.0').optional();

/** A call from the controller: `query`, `mutation` or `subscription`. */
export const CallFrameSchema = z.object({
  id: FrameIdSchema,
  jsonrpc: JsonRpcSchema,
  method: z.enum(['query', 'mutation', 'subscription']),
  params: z.object({ path: z.string(), input: z.unknown().optional(), lastEventId: z.string().optional() }),
});
export type CallFrame = z.infer<typeof CallFrameSchema>;

/** Cancels the call with this id: stops a subscription, aborts a query's or a mutation's signal. */
export const StopFrameSchema = z.object({ id: FrameIdSchema, jsonrpc: JsonRpcSchema, method: z.literal('subscription.stop') });
export type StopFrame = z.infer<typeof StopFrameSchema>;

/** Everything the controller may write to the agent. */
export const RequestFrameSchema = z.union([CallFrameSchema, StopFrameSchema]);
export type RequestFrame = z.infer<typeof RequestFrameSchema>;

const ResultFrameSchema = z.object({
  id: FrameIdSchema,
  jsonrpc: JsonRpcSchema,
  result: z.object({
    // Absent `type` means `data`, as in tRPC's HTTP responses.
    type: z.enum(['started', 'data', 'stopped']).optional(),
    data: z.unknown().optional(),
    id: z.string().optional(),
  }),
});

const ErrorFrameSchema = z.object({
  // `null` when the agent could not tell which request a rejected frame was.
  id: FrameIdSchema.nullable(),
  jsonrpc: JsonRpcSchema,
  error: z.object({ code: z.number().int(), message: z.string(), data: z.unknown() }),
});

/** Everything the agent may write to the controller. */
export const ResponseFrameSchema = z.union([ResultFrameSchema, ErrorFrameSchema]);
export type ResponseFrame = z.infer<typeof ResponseFrameSchema>;
