import type { Readable, Writable } from 'node:stream';
import { TRPCClientError, type OperationResultEnvelope, type TRPCLink } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { observable, type Observer } from '@trpc/server/observable';
import { FleetError } from '../../errors.ts';
import { createFrameWriter, encodeFrame } from './create-frame-writer.ts';
import { ResponseFrameSchema, type ResponseFrame } from './frame-schemas.ts';
import { DEFAULT_MAX_LINE_BYTES, previewLine, readLines } from './read-lines.ts';

/** Options of {@link createStreamLink}. */
export interface StreamLinkOptions {
  /** Response frames from the agent (the SSH channel's stdout). */
  input: Readable;
  /** Request frames to the agent (the SSH channel itself, i.e. the agent's stdin). */
  output: Writable;
  /** A line from the agent that is not a frame (a stray print on its stdout); the link carries on. */
  onProtocolError?: (error: FleetError) => void;
  /**
   * A longer line from the agent closes the link: a frame may have been lost, so no pending
   * call could be trusted to get its answer. Default 16 MiB.
   */
  maxLineBytes?: number;
}

/** A tRPC link over one byte stream, and how to end it. */
export interface StreamLink<TRouter extends AnyTRPCRouter = AnyTRPCRouter> {
  /** The terminating link: `createTRPCClient<AgentRouter>({ links: [link] })`. */
  link: TRPCLink<TRouter>;
  /** Fails every pending call with SSH_CHANNEL_CLOSED and stops using the streams (it does not end them). */
  close(reason?: string): void;
  /** Resolves once the link is closed: by `close()`, or because the input ended or a stream failed. */
  closed: Promise<void>;
}

type Envelope = OperationResultEnvelope<unknown, TRPCClientError<AnyTRPCRouter>>;

interface PendingCall {
  type: 'query' | 'mutation' | 'subscription';
  path: string;
  observer: Observer<Envelope, TRPCClientError<AnyTRPCRouter>>;
}

const STRAY_OUTPUT_HINT = "Something on that host writes to the agent's stdout: a shell rc file that prints on non-interactive logins, or a child process that inherited stdout.";
const CHANNEL_CLOSED_HINT = "The agent may have crashed or the host gone down: its stderr is in the controller's debug log. Calls are never re-sent: run the command again.";
const LOST_FRAME_HINT = 'No agent of this version sends such a line: run `fleet-agent serve --stdio` by hand on that host to see what answers in its place. Calls are never re-sent: run the command again.';

/** Why the link closed: the channel ended (SSH_CHANNEL_CLOSED) or the agent broke the protocol (AGENT_PROTOCOL). */
type CloseCode = 'SSH_CHANNEL_CLOSED' | 'AGENT_PROTOCOL';

/**
 * The controller's side of the stdio transport (see `serveStream`): assigns ids, writes request
 * frames, and routes response frames to the calls that wait for them.
 *
 * It never re-sends anything: when the channel ends, fails or is closed, every pending call fails
 * with a TRPCClientError whose cause is a FleetError `SSH_CHANNEL_CLOSED` (a replayed `replicate`
 * could act twice). Unsubscribing or aborting a call sends `subscription.stop` for it. Requests wait
 * in a queue while the output applies backpressure; one cancelled before it was written is dropped.
 */
export function createStreamLink<TRouter extends AnyTRPCRouter = AnyTRPCRouter>(options: StreamLinkOptions): StreamLink<TRouter> {
  const pending = new Map<number, PendingCall>();
  const queue: Array<{ id: number; kind: 'call' | 'stop'; line: string }> = [];
  let lastId = 0;
  let flushing = false;
  let closedReason: string | undefined;
  let closedCode: CloseCode = 'SSH_CHANNEL_CLOSED';
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  const reportProtocolError = (message: string, line: string, hint = STRAY_OUTPUT_HINT): void => {
    const error = new FleetError('AGENT_PROTOCOL', message, { hint, details: { line: previewLine(line) } });
    callUserCallback(() => options.onProtocolError?.(error));
  };

  const writer = createFrameWriter(options.output, {
    onClosed: (error) => closeWith(error ? `writing to it failed: ${error.message}` : 'it no longer accepts writes', error),
  });
  const stopReading = readLines(options.input, {
    ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
    onLine: (line) => handleLine(line),
    onOversizedLine: (head) => {
      reportProtocolError(`The agent sent a line longer than the limit, starting ${previewLine(head)}.`, head, LOST_FRAME_HINT);
      closeWith(`it sent a line longer than ${options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES} bytes, so a frame may be lost`, undefined, 'AGENT_PROTOCOL');
    },
    onEnd: (error) => closeWith(error ? `reading from it failed: ${error.message}` : "the agent's output ended", error),
  });

  function handleLine(line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      reportProtocolError(`The agent printed a line that is not a protocol frame: ${previewLine(line)}.`, line);
      return;
    }
    const parsed = ResponseFrameSchema.safeParse(raw);
    if (!parsed.success) {
      reportProtocolError(`The agent sent a malformed frame: ${previewLine(line)}.`, line);
      return;
    }
    dispatch(parsed.data, line);
  }

  function dispatch(frame: ResponseFrame, line: string): void {
    if ('error' in frame) {
      if (frame.id === null) {
        reportProtocolError(`The agent rejected a frame: ${frame.error.message}`, line, 'The controller and the agent disagree on the protocol: install the matching agent with `fleet agent install HOST`.');
        return;
      }
      const call = take(frame.id);
      // TRPCClientError keeps the formatted shape (with `data.fleet`) for toFleetErrorFromClient.
      if (call) callUserCallback(() => call.observer.error(TRPCClientError.from(frame)));
      return;
    }
    // No call: the answer to one cancelled meanwhile.
    const call = typeof frame.id === 'number' ? pending.get(frame.id) : undefined;
    if (!call) return;
    const { type = 'data', data, id: eventId } = frame.result;
    if (call.type !== 'subscription') {
      pending.delete(frame.id as number);
      callUserCallback(() => {
        call.observer.next({ result: { type: 'data', data } });
        call.observer.complete();
      });
      return;
    }
    if (type === 'stopped') pending.delete(frame.id as number);
    callUserCallback(() => {
      if (type === 'data') call.observer.next({ result: eventId === undefined ? { type, data } : { type, data, id: eventId } });
      else call.observer.next({ result: { type } });
      if (type === 'stopped') call.observer.complete();
    });
  }

  function take(id: number | string): PendingCall | undefined {
    if (typeof id !== 'number') return undefined;
    const call = pending.get(id);
    pending.delete(id);
    return call;
  }

  function send(id: number, kind: 'call' | 'stop', line: string): void {
    if (queue.length > 0 || writer.congested) {
      queue.push({ id, kind, line });
      void flush();
      return;
    }
    writer.writeLine(line);
  }

  async function flush(): Promise<void> {
    if (flushing) return;
    flushing = true;
    while (queue.length > 0 && closedReason === undefined) {
      await writer.drained();
      while (queue.length > 0 && !writer.congested && closedReason === undefined) writer.writeLine(queue.shift()!.line);
    }
    flushing = false;
  }

  /** The caller gave up on a call: drop it if still queued, else tell the agent to stop it. */
  function cancel(id: number): void {
    if (!pending.delete(id) || closedReason !== undefined) return;
    const queued = queue.findIndex((entry) => entry.id === id && entry.kind === 'call');
    if (queued !== -1) queue.splice(queued, 1);
    else send(id, 'stop', encodeFrame({ id, method: 'subscription.stop' }));
  }

  function closeWith(reason: string, error?: Error, code: CloseCode = 'SSH_CHANNEL_CLOSED'): void {
    if (closedReason !== undefined) return;
    closedReason = reason;
    closedCode = code;
    stopReading();
    writer.dispose();
    queue.length = 0;
    const calls = [...pending.values()];
    pending.clear();
    for (const call of calls) {
      const cause = closedError(`before "${call.path}" finished`, error);
      callUserCallback(() => call.observer.error(new TRPCClientError(cause.message, { cause })));
    }
    resolveClosed();
  }

  /** The error of a call the closed link cannot answer; `what` says what became of the call. */
  function closedError(what: string, cause?: Error): FleetError {
    return closedCode === 'AGENT_PROTOCOL'
      ? new FleetError('AGENT_PROTOCOL', `The link to the agent closed because ${closedReason} ${what}.`, { hint: LOST_FRAME_HINT, cause })
      : new FleetError('SSH_CHANNEL_CLOSED', `The SSH channel to the agent closed (${closedReason}) ${what}.`, { hint: CHANNEL_CLOSED_HINT, cause });
  }

  const link: TRPCLink<TRouter> =
    () =>
    ({ op }) =>
      observable<Envelope, TRPCClientError<AnyTRPCRouter>>((observer) => {
        const { type, path, signal } = op;
        if (closedReason !== undefined) {
          const cause = closedError(`so "${path}" was not sent`);
          observer.error(new TRPCClientError(cause.message, { cause }));
          return;
        }
        if (signal?.aborted) {
          observer.error(cancelledError(path));
          return;
        }
        const id = ++lastId;
        let line: string;
        try {
          line = encodeFrame({ id, method: type, params: { path, input: op.input } });
        } catch (error) {
          const cause = new FleetError('INTERNAL', `The input of "${path}" is not JSON-serialisable (send bigints as strings): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
          observer.error(new TRPCClientError(cause.message, { cause }));
          return;
        }
        pending.set(id, { type, path, observer });
        send(id, 'call', line);

        const onAbort = (): void => {
          if (!pending.has(id)) return;
          cancel(id);
          // A subscription asked to stop simply ends; a query or mutation has no answer to give.
          if (type === 'subscription') observer.complete();
          else observer.error(cancelledError(path));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        return () => {
          signal?.removeEventListener('abort', onAbort);
          cancel(id);
        };
      });

  return { link, close: (reason = 'closed by the controller') => closeWith(reason), closed };
}

function cancelledError(path: string): TRPCClientError<AnyTRPCRouter> {
  const cause = new FleetError('CANCELLED', `The call to "${path}" was cancelled.`);
  return new TRPCClientError(cause.message, { cause });
}

/** A throw from user code in an observer must not skip the link's bookkeeping: rethrow it on its own. */
function callUserCallback(callback: () => void): void {
  try {
    callback();
  } catch (error) {
    setTimeout(() => {
      throw error;
    });
  }
}
