import type { Readable, Writable } from 'node:stream';
import { callTRPCProcedure, getTRPCErrorFromUnknown, getTRPCErrorShape, TRPCError, type AnyTRPCRouter, type inferRouterContext } from '@trpc/server';
import { isObservable, observableToAsyncIterable } from '@trpc/server/observable';
import { FleetError } from '../../errors.ts';
import { createFrameWriter, encodeFrame, type FrameWriter } from './create-frame-writer.ts';
import { RequestFrameSchema, type CallFrame } from './frame-schemas.ts';
import { pumpSubscription } from './pump-subscription.ts';
import { previewLine, readLines } from './read-lines.ts';
import { writeResult } from './write-result.ts';

/** The logging serveStream needs; a pino logger fits. Logs must never go to the output stream. */
export interface StreamLogger {
  debug(data: object, message: string): void;
  info(data: object, message: string): void;
  warn(data: object, message: string): void;
  error(data: object, message: string): void;
}

/** Options of {@link serveStream}. */
export interface ServeStreamOptions<TRouter extends AnyTRPCRouter> {
  router: TRouter;
  /** Called once, before the first call is run; its value is the `ctx` of every call. */
  createContext: () => inferRouterContext<TRouter> | Promise<inferRouterContext<TRouter>>;
  /** Request frames from the controller (the agent's stdin). */
  input: Readable;
  /** Response frames to the controller (the agent's stdout): nothing else is ever written here. */
  output: Writable;
  logger?: StreamLogger;
  /** A longer request line is rejected with a protocol error. Default 16 MiB. */
  maxLineBytes?: number;
  /** After the input ends, how long to wait for the aborted calls to finish. Default 5000. */
  settleTimeoutMs?: number;
}

type FrameId = CallFrame['id'];

const silentLogger: StreamLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Sent when even an error cannot be shaped or encoded: the caller still learns its call failed. */
const FALLBACK_ERROR_SHAPE = {
  code: -32603,
  message: 'Internal server error',
  data: {
    code: 'INTERNAL_SERVER_ERROR',
    httpStatus: 500,
    fleet: { code: 'INTERNAL', message: 'The agent could not encode the error of this call.', hint: "Check the agent's log (its stderr) on that host." },
  },
};

/**
 * Serves a tRPC router over a byte stream: newline-delimited JSON frames in the message format
 * of tRPC's WebSocket protocol (`{id, method, params: {path, input}}` in;
 * `{id, result: {type, data}}` or `{id, error}` out; `subscription.stop` cancels a call).
 *
 * Values cross as plain JSON (no transformer): procedure inputs and outputs must be JSON-safe,
 * bigints as strings and dates as numbers or strings.
 *
 * A subscription's next value is pulled only when the output has room (write/drain backpressure).
 * Resolves when the input ends or the output goes away (EPIPE is not an error here), after
 * aborting every call in flight and waiting up to `settleTimeoutMs` for them to finish.
 */
export function serveStream<TRouter extends AnyTRPCRouter>(options: ServeStreamOptions<TRouter>): Promise<void> {
  const { router, input, output } = options;
  const logger = options.logger ?? silentLogger;
  const settleTimeoutMs = options.settleTimeoutMs ?? 5000;
  const calls = new Map<FrameId, AbortController>();
  const running = new Set<Promise<void>>();
  let context: Promise<inferRouterContext<TRouter>> | undefined;
  let stopping = false;

  return new Promise<void>((resolve) => {
    const writer = createFrameWriter(output, {
      onClosed: (error) => void shutdown(error ? { reason: 'output failed', err: error } : { reason: 'output closed' }),
    });
    const stopReading = readLines(input, {
      ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
      onLine: (line) => handleLine(line),
      onOversizedLine: (head) => rejectFrame(null, `The agent received a line longer than the limit, starting ${previewLine(head)}.`),
      onEnd: (error) => void shutdown(error ? { reason: 'input failed', err: error } : { reason: 'input ended' }),
    });

    async function shutdown(why: { reason: string; err?: Error }): Promise<void> {
      if (stopping) return;
      stopping = true;
      stopReading();
      logger.debug({ ...why, inFlight: calls.size }, 'stream closing');
      for (const call of calls.values()) call.abort();
      if (running.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          Promise.allSettled(running).then(() => false),
          new Promise<boolean>((done) => {
            timer = setTimeout(() => done(true), settleTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
        if (timedOut) logger.warn({ inFlight: running.size, settleTimeoutMs }, 'calls still running after the stream ended: they ignore their abort signal');
      }
      writer.dispose();
      resolve();
    }

    function handleLine(line: string): void {
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        rejectFrame(null, `The agent received a line that is not JSON: ${previewLine(line)}.`);
        return;
      }
      const parsed = RequestFrameSchema.safeParse(raw);
      if (!parsed.success) {
        rejectFrame(idOf(raw), `The agent received a malformed frame ${previewLine(line)}: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'frame'}: ${issue.message}`).join('; ')}.`);
        return;
      }
      const frame = parsed.data;
      if (frame.method === 'subscription.stop') {
        calls.get(frame.id)?.abort();
        return;
      }
      if (calls.has(frame.id)) {
        rejectFrame(frame.id, `The agent received a second call with id ${JSON.stringify(frame.id)} while the first is running.`);
        return;
      }
      const controller = new AbortController();
      calls.set(frame.id, controller);
      const task: Promise<void> = runCall(frame, controller, writer)
        .catch((error: unknown) => logger.error({ err: error, id: frame.id }, 'call crashed the transport'))
        .finally(() => {
          calls.delete(frame.id);
          running.delete(task);
        });
      running.add(task);
    }

    function rejectFrame(id: FrameId | null, message: string): void {
      logger.warn({ id }, message);
      const cause = new FleetError('AGENT_PROTOCOL', message, { hint: 'The controller and the agent disagree on the protocol: install matching versions.' });
      sendError(writer, { id }, new TRPCError({ code: id === null ? 'PARSE_ERROR' : 'BAD_REQUEST', message, cause }), { type: 'unknown', path: undefined, input: undefined });
    }
  });

  async function runCall(frame: CallFrame, controller: AbortController, writer: FrameWriter): Promise<void> {
    const {
      id,
      method: type,
      params: { path, input: callInput },
    } = frame;
    const envelope = { id, ...(frame.jsonrpc ? { jsonrpc: frame.jsonrpc } : {}) };
    const startedAt = performance.now();
    let outcome = 'ok';
    try {
      context ??= Promise.resolve().then(() => options.createContext());
      const ctx = await context;
      const result: unknown = await callTRPCProcedure({
        router,
        path,
        getRawInput: async () => callInput,
        ctx,
        type,
        signal: controller.signal,
        batchIndex: 0,
      });
      if (type !== 'subscription') {
        if (isObservable(result) || isAsyncIterable(result)) {
          throw new TRPCError({ code: 'UNSUPPORTED_MEDIA_TYPE', message: `The ${type} "${path}" returned a stream: only subscriptions can stream over stdio.` });
        }
        writeResult(writer, envelope, { type: 'data', data: result }, path);
        return;
      }
      const iterable = isObservable(result) ? observableToAsyncIterable<unknown>(result, controller.signal) : result;
      if (!isAsyncIterable(iterable)) {
        throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `The subscription "${path}" did not return an async generator.` });
      }
      writeResult(writer, envelope, { type: 'started' }, path);
      outcome = await pumpSubscription(iterable, controller, writer, envelope, path);
      writeResult(writer, envelope, { type: 'stopped' }, path);
    } catch (cause) {
      const error = getTRPCErrorFromUnknown(cause);
      outcome = error.code;
      if (!(error.cause instanceof FleetError) && !controller.signal.aborted) logger.error({ err: cause, path, type }, 'call failed unexpectedly');
      sendError(writer, envelope, error, { type, path, input: callInput, ctx: await context?.catch(() => undefined) });
    } finally {
      logger.debug({ id, path, type, outcome, durationMs: Math.round(performance.now() - startedAt) }, 'call finished');
    }
  }

  function sendError(writer: FrameWriter, envelope: { id: FrameId | null; jsonrpc?: '2.0' }, error: TRPCError, call: { type: CallFrame['method'] | 'unknown'; path: string | undefined; input: unknown; ctx?: unknown }): void {
    let line: string;
    try {
      const shape = getTRPCErrorShape({ config: router._def._config, error, ctx: call.ctx, type: call.type, path: call.path, input: call.input });
      line = encodeFrame({ ...envelope, error: shape });
    } catch (cause) {
      logger.error({ err: cause, path: call.path }, 'could not shape or encode an error frame');
      line = encodeFrame({ ...envelope, error: FALLBACK_ERROR_SHAPE });
    }
    writer.writeLine(line);
  }
}

function idOf(raw: unknown): FrameId | null {
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'number' || typeof id === 'string' ? id : null;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
