import { TRPCError } from '@trpc/server';
import { encodeFrame, type FrameWriter } from './create-frame-writer.ts';
import type { CallFrame } from './frame-schemas.ts';

/** The part of a response frame that names its call. */
export interface ResultEnvelope {
  id: CallFrame['id'];
  jsonrpc?: '2.0';
}

/**
 * Writes one result frame of the agent. A value JSON cannot encode (a bigint, a cycle) becomes
 * a TRPCError for that call alone, instead of a broken line on the channel.
 */
export function writeResult(writer: FrameWriter, envelope: ResultEnvelope, result: { type: 'started' | 'data' | 'stopped'; data?: unknown; id?: string }, path: string): void {
  let line: string;
  try {
    line = encodeFrame({ ...envelope, result });
  } catch (cause) {
    throw new TRPCError({
      code: 'INTERNAL_SERVER_ERROR',
      message: `"${path}" produced a value that is not JSON-serialisable (send bigints as strings): ${cause instanceof Error ? cause.message : String(cause)}`,
      cause,
    });
  }
  writer.writeLine(line);
}
