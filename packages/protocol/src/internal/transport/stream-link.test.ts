import { PassThrough, Writable } from 'node:stream';
import { createTRPCClient, TRPCClientError } from '@trpc/client';
import { describe, expect, test, vi } from 'vitest';
import { FleetError } from '../../errors.ts';
import { toFleetErrorFromClient } from './client-error.ts';
import { createStreamLink } from './stream-link.ts';
import { connectInMemory } from './test-fixtures/connect-in-memory.ts';
import type { TestRouter } from './test-fixtures/create-test-router.ts';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected the call to fail'),
    (error: unknown) => error,
  );
}

describe('createStreamLink with serveStream', () => {
  test('queries and mutations return their results', async () => {
    const { client } = connectInMemory();
    await expect(client.echo.query({ text: 'tank/data' })).resolves.toEqual({ text: 'tank/data' });
    await expect(client.add.mutate({ a: 2, b: 3 })).resolves.toBe(5);
    const many = await Promise.all(Array.from({ length: 100 }, (_, i) => client.echo.query({ text: String(i) })));
    expect(many.map((r) => r.text)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
  });

  test('a FleetError thrown by a procedure arrives as a FleetError with its code, hint and details', async () => {
    const { client } = connectInMemory();
    const error = await rejection(client.fail.query());
    expect(error).toBeInstanceOf(TRPCClientError);
    const fleetError = toFleetErrorFromClient(error);
    expect(fleetError).toBeInstanceOf(FleetError);
    expect(fleetError).toMatchObject({
      code: 'DATASET_NOT_FOUND',
      message: 'Dataset "tank/missing" does not exist.',
      hint: 'Check the name with `zfs list`.',
      details: { dataset: 'tank/missing' },
    });
    expect(fleetError.cause).toBe(error);
  });

  test('an unexpected error arrives as INTERNAL with its message and without a stack', async () => {
    const { client, toController } = connectInMemory();
    const frames: string[] = [];
    toController.on('data', (chunk: Buffer) => frames.push(chunk.toString('utf8')));
    const fleetError = toFleetErrorFromClient(await rejection(client.crash.query()));
    expect(fleetError.code).toBe('INTERNAL');
    expect(fleetError.message).toContain('boom');
    expect(frames.join('')).not.toMatch(/stack|at .*\.ts:\d+/);
  });

  test('a subscription of 10,000 events arrives complete and in order', async () => {
    const { client, probe } = connectInMemory();
    const received: number[] = [];
    let started = false;
    await new Promise<void>((resolve, reject) => {
      client.count.subscribe(
        { to: 10_000 },
        {
          onStarted: () => {
            started = true;
          },
          onData: (value) => received.push(value),
          onError: reject,
          onComplete: resolve,
        },
      );
    });
    expect(started).toBe(true);
    expect(received).toHaveLength(10_000);
    expect(received.every((value, index) => value === index)).toBe(true);
    expect(probe.finished).toEqual(['count']);
  });

  test('a subscription can be read with for await', async () => {
    const { client } = connectInMemory();
    const values: number[] = [];
    for await (const value of await client.count.subscribe({ to: 5 })) values.push(value);
    expect(values).toEqual([0, 1, 2, 3, 4]);
  });

  test('unsubscribing stops the generator on the agent, whose finally runs', async () => {
    const { client, probe, requests } = connectInMemory();
    const received: number[] = [];
    const subscription = client.ticks.subscribe(undefined, { onData: (value) => received.push(value) });
    await vi.waitFor(() => expect(received.length).toBeGreaterThanOrEqual(3));
    subscription.unsubscribe();
    await vi.waitFor(() => expect(probe.finished).toEqual(['ticks']));
    expect(requests).toContainEqual({ id: 1, method: 'subscription.stop' });
    const countAtStop = received.length;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received.length).toBe(countAtStop);
  });

  test('aborting a query fails it as CANCELLED and aborts the procedure’s signal', async () => {
    const { client, probe } = connectInMemory();
    const controller = new AbortController();
    const call = client.slow.query({ ms: 60_000 }, { signal: controller.signal });
    await vi.waitFor(() => expect(probe.slowStarted).toBe(1));
    controller.abort();
    expect(toFleetErrorFromClient(await rejection(call)).code).toBe('CANCELLED');
    await vi.waitFor(() => expect(probe.aborted).toBe(1));
  });

  test('pending calls fail with SSH_CHANNEL_CLOSED when the agent’s output ends, and are never re-sent', async () => {
    const { client, transport, toController, requests } = connectInMemory();
    const slow = client.slow.query({ ms: 60_000 });
    const subscriptionError = new Promise<unknown>((resolve) => {
      client.ticks.subscribe(undefined, { onError: resolve });
    });
    await vi.waitFor(() => expect(requests).toHaveLength(2));
    toController.end();
    for (const error of [await rejection(slow), await subscriptionError]) {
      expect(error).toBeInstanceOf(TRPCClientError);
      const fleetError = toFleetErrorFromClient(error);
      expect(fleetError.code).toBe('SSH_CHANNEL_CLOSED');
      expect(fleetError.hint).toMatch(/never re-sent/);
    }
    await transport.closed;
    expect(toFleetErrorFromClient(await rejection(client.echo.query({ text: 'late' }))).code).toBe('SSH_CHANNEL_CLOSED');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(requests.filter((frame) => (frame as { method: string }).method !== 'subscription.stop')).toHaveLength(2);
  });

  test('pending calls fail with SSH_CHANNEL_CLOSED when the input fails', async () => {
    const { client, probe, toController } = connectInMemory();
    const slow = client.slow.query({ ms: 60_000 });
    await vi.waitFor(() => expect(probe.slowStarted).toBe(1));
    toController.destroy(new Error('Connection reset'));
    const fleetError = toFleetErrorFromClient(await rejection(slow));
    expect(fleetError.code).toBe('SSH_CHANNEL_CLOSED');
    expect(fleetError.message).toContain('Connection reset');
  });

  test('close() fails pending calls and leaves the streams alone', async () => {
    const { client, transport, toAgent, toController } = connectInMemory();
    const slow = client.slow.query({ ms: 60_000 });
    transport.close();
    expect(toFleetErrorFromClient(await rejection(slow)).code).toBe('SSH_CHANNEL_CLOSED');
    await transport.closed;
    expect(toAgent.destroyed || toController.destroyed).toBe(false);
  });

  test('a stray line on the agent’s stdout is reported and does not disturb the calls', async () => {
    const { client, toController, protocolErrors } = connectInMemory();
    toController.write('Welcome to host1! Last login: yesterday\n');
    toController.write('{"id": 99, "nonsense": true}\n');
    await expect(client.echo.query({ text: 'still fine' })).resolves.toEqual({ text: 'still fine' });
    expect(protocolErrors.map((error) => error.code)).toEqual(['AGENT_PROTOCOL', 'AGENT_PROTOCOL']);
    expect(protocolErrors[0]?.message).toContain('"Welcome to host1! Last login: yesterday"');
    expect(protocolErrors[0]?.hint).toMatch(/rc file/);
  });

  test('a value that is not JSON-safe fails that call only', async () => {
    const { client } = connectInMemory();
    const fleetError = toFleetErrorFromClient(await rejection(client.bigint.query()));
    expect(fleetError.code).toBe('INTERNAL');
    expect(fleetError.message).toMatch(/JSON-serialisable/);
    await expect(client.echo.query({ text: 'next' })).resolves.toEqual({ text: 'next' });
  });

  test('an input that is not JSON-safe fails before anything is sent', async () => {
    const { client, requests } = connectInMemory();
    const fleetError = toFleetErrorFromClient(await rejection(client.add.mutate({ a: 1n as unknown as number, b: 2 })));
    expect(fleetError.message).toMatch(/not JSON-serialisable/);
    expect(requests).toEqual([]);
  });

  test('requests wait in the link while the agent’s stdin applies backpressure; one cancelled meanwhile is never sent', async () => {
    const writes: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const output = new Writable({
      highWaterMark: 64,
      write(chunk: Buffer, _encoding, callback) {
        writes.push(chunk.toString('utf8'));
        void gate.then(() => callback());
      },
    });
    const transport = createStreamLink<TestRouter>({ input: new PassThrough(), output });
    const client = createTRPCClient<TestRouter>({ links: [transport.link] });
    const cancel = new AbortController();
    const calls = [client.echo.query({ text: 'a'.repeat(100) }), client.echo.query({ text: 'dropped' }, { signal: cancel.signal }), client.echo.query({ text: 'c' })];
    for (const call of calls) call.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(writes).toHaveLength(1);
    cancel.abort();
    release();
    await vi.waitFor(() => expect(writes).toHaveLength(2));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(writes.join('')).not.toContain('dropped');
    expect(writes.join('')).not.toContain('subscription.stop');
    transport.close();
  });
});

describe('createStreamLink with a hostile agent', () => {
  test('a line over the limit fails the pending calls with AGENT_PROTOCOL at once, and later calls too', async () => {
    const { client, probe, toController, protocolErrors } = connectInMemory({ link: { maxLineBytes: 1024 } });
    const slow = client.slow.query({ ms: 60_000 });
    await vi.waitFor(() => expect(probe.slowStarted).toBe(1));
    toController.write(`{"id":1,"result":{"data":"${'A'.repeat(2048)}`);
    const fleetError = toFleetErrorFromClient(await rejection(slow));
    expect(fleetError.code).toBe('AGENT_PROTOCOL');
    expect(fleetError.message).toBe('The link to the agent closed because it sent a line longer than 1024 bytes, so a frame may be lost before "slow" finished.');
    expect(fleetError.hint).toMatch(/never re-sent/);
    expect(protocolErrors.map((error) => error.code)).toEqual(['AGENT_PROTOCOL']);
    expect(protocolErrors[0]?.message).toContain(`starting "{\\"id\\":1,\\"result\\":{\\"data\\":\\"AAAA`);
    expect(toFleetErrorFromClient(await rejection(client.echo.query({ text: 'late' }))).code).toBe('AGENT_PROTOCOL');
  });

  test('frames with ids nobody asked for are dropped; the calls that were asked get their own answers', async () => {
    const { client, toController, protocolErrors } = connectInMemory();
    toController.write('{"id":4242,"result":{"data":{"text":"forged"}}}\n{"id":"x","result":{"type":"stopped"}}\n{"id":777,"error":{"code":-32600,"message":"forged","data":{}}}\n');
    await expect(client.echo.query({ text: 'mine' })).resolves.toEqual({ text: 'mine' });
    expect(protocolErrors).toEqual([]);
  });

  test('binary garbage between frames is reported line by line and never answers a call', async () => {
    const { client, toController, protocolErrors } = connectInMemory();
    toController.write(Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x1b, 0x5b, 0x32, 0x4a, 0x7b, 0x0a, 0x5d, 0x5d, 0x0a]));
    await expect(client.echo.query({ text: 'after garbage' })).resolves.toEqual({ text: 'after garbage' });
    expect(protocolErrors.map((error) => error.code)).toEqual(['AGENT_PROTOCOL', 'AGENT_PROTOCOL', 'AGENT_PROTOCOL']);
  });
});
