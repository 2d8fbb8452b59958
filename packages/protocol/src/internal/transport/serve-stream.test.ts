import { PassThrough, Writable } from 'node:stream';
import { describe, expect, test, vi } from 'vitest';
import { ResponseFrameSchema, type ResponseFrame } from './frame-schemas.ts';
import { serveStream, type ServeStreamOptions } from './serve-stream.ts';
import { connectInMemory } from './test-fixtures/connect-in-memory.ts';
import { createTestProbe, testRouter, type TestRouter } from './test-fixtures/create-test-router.ts';

/** serveStream driven by hand: raw lines in, every output line parsed as a frame. */
function serveRaw(options: Partial<ServeStreamOptions<TestRouter>> = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  const probe = createTestProbe();
  const frames: ResponseFrame[] = [];
  let buffered = '';
  output.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) frames.push(ResponseFrameSchema.parse(JSON.parse(line)));
  });
  const served = serveStream({ router: testRouter, createContext: () => ({ probe }), input, output, ...options });
  const send = (frame: unknown) => input.write(`${typeof frame === 'string' ? frame : JSON.stringify(frame)}\n`);
  return { input, output, probe, frames, served, send };
}

function fleetCodeOf(frame: ResponseFrame | undefined): unknown {
  return frame && 'error' in frame ? (frame.error.data as { fleet?: { code?: string } }).fleet?.code : undefined;
}

describe('serveStream', () => {
  test('answers a query with one data result, echoing id and jsonrpc', async () => {
    const { frames, send } = serveRaw();
    send({ id: 'a', jsonrpc: '2.0', method: 'query', params: { path: 'echo', input: { text: 'hi' } } });
    await vi.waitFor(() => expect(frames).toEqual([{ id: 'a', jsonrpc: '2.0', result: { type: 'data', data: { text: 'hi' } } }]));
  });

  test('streams a subscription as started, data…, stopped', async () => {
    const { frames, send } = serveRaw();
    send({ id: 1, method: 'subscription', params: { path: 'count', input: { to: 3 } } });
    await vi.waitFor(() => expect(frames.at(-1)).toEqual({ id: 1, result: { type: 'stopped' } }));
    expect(frames.map((frame) => ('result' in frame ? [frame.result.type, frame.result.data] : 'error'))).toEqual([
      ['started', undefined],
      ['data', 0],
      ['data', 1],
      ['data', 2],
      ['stopped', undefined],
    ]);
  });

  test('rejects a line that is not JSON, a malformed frame and a duplicate id, and keeps serving', async () => {
    const { frames, send } = serveRaw();
    send('hello');
    send({ id: 7, method: 'delete-everything', params: { path: 'echo' } });
    send({ id: 8, method: 'query', params: { path: 'slow', input: { ms: 50 } } });
    send({ id: 8, method: 'query', params: { path: 'echo', input: { text: 'again' } } });
    send({ id: 9, method: 'query', params: { path: 'echo', input: { text: 'ok' } } });
    await vi.waitFor(() => expect(frames).toHaveLength(5));
    const [notJson, malformed, duplicate, ok, slow] = frames;
    expect(notJson).toMatchObject({ id: null, error: { message: expect.stringContaining('"hello"') } });
    expect(fleetCodeOf(notJson)).toBe('AGENT_PROTOCOL');
    expect(malformed).toMatchObject({ id: 7, error: { message: expect.stringContaining('method') } });
    expect(duplicate).toMatchObject({ id: 8, error: { message: expect.stringContaining('second call with id 8') } });
    expect(ok).toEqual({ id: 9, result: { type: 'data', data: { text: 'ok' } } });
    expect(slow).toEqual({ id: 8, result: { type: 'data', data: 'done' } });
  });

  test('rejects a line over the limit and serves the next one', async () => {
    const { frames, send } = serveRaw({ maxLineBytes: 1024 });
    send(`{"id":1,"method":"query","params":{"path":"echo","input":{"text":"${'x'.repeat(5000)}"}}}`);
    send({ id: 2, method: 'query', params: { path: 'echo', input: { text: 'small' } } });
    await vi.waitFor(() => expect(frames).toHaveLength(2));
    expect(frames[0]).toMatchObject({ id: null, error: { message: expect.stringContaining('longer than the limit') } });
    expect(frames[1]).toEqual({ id: 2, result: { type: 'data', data: { text: 'small' } } });
  });

  test('subscription.stop aborts a running query’s signal', async () => {
    const { frames, probe, send } = serveRaw();
    send({ id: 1, method: 'query', params: { path: 'slow', input: { ms: 60_000 } } });
    await vi.waitFor(() => expect(probe.slowStarted).toBe(1));
    send({ id: 1, method: 'subscription.stop' });
    await vi.waitFor(() => expect(probe.aborted).toBe(1));
    await vi.waitFor(() => expect(fleetCodeOf(frames[0])).toBe('CANCELLED'));
  });

  test('resolves on input EOF after aborting the calls in flight', async () => {
    const { input, probe, frames, send, served } = serveRaw();
    send({ id: 1, method: 'query', params: { path: 'slow', input: { ms: 60_000 } } });
    send({ id: 2, method: 'subscription', params: { path: 'ticks' } });
    await vi.waitFor(() => expect(probe.slowStarted).toBe(1));
    await vi.waitFor(() => expect(frames.some((frame) => 'result' in frame && frame.result.type === 'data')).toBe(true));
    input.end();
    await served;
    expect(probe.aborted).toBe(1);
    expect(probe.finished).toEqual(['ticks']);
  });

  test('does not wait forever for a call that ignores its signal', async () => {
    const { input, send, served } = serveRaw({ settleTimeoutMs: 20 });
    send({ id: 1, method: 'query', params: { path: 'stubborn', input: { ms: 500 } } });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const endedAt = performance.now();
    input.end();
    await served;
    expect(performance.now() - endedAt).toBeLessThan(400);
  });

  test('stops quietly when the output fails (EPIPE) during a subscription', async () => {
    const { output, probe, frames, send, served } = serveRaw();
    send({ id: 1, method: 'subscription', params: { path: 'ticks' } });
    await vi.waitFor(() => expect(frames.length).toBeGreaterThan(2));
    output.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await served;
    expect(probe.finished).toEqual(['ticks']);
  });

  test('a slow reader makes the subscription wait: the generator is never pulled far ahead of what was written', async () => {
    let written = 0;
    let maxLead = 0;
    let probeRef: { pulled: number } | undefined;
    const { client, probe } = connectInMemory({
      agentOutput: (toController) =>
        new Writable({
          highWaterMark: 256,
          write(chunk: Buffer, _encoding, callback) {
            written += chunk.toString('utf8').split('\n').length - 1;
            maxLead = Math.max(maxLead, (probeRef?.pulled ?? 0) - written);
            toController.write(chunk);
            setImmediate(callback);
          },
        }),
    });
    probeRef = probe;
    const received: number[] = [];
    await new Promise<void>((resolve, reject) => {
      client.count.subscribe({ to: 2000 }, { onData: (value) => received.push(value), onError: reject, onComplete: resolve });
    });
    expect(received).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    // 256 bytes hold ~6 frames of ~45 bytes: without backpressure the lead would reach ~2000.
    expect(maxLead).toBeLessThanOrEqual(10);
  });
});
