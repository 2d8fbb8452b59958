import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { FleetError } from '../../../errors.ts';
import { initFleetTRPC } from '../create-fleet-trpc.ts';

/** What the test router records, so tests can see what happened on the agent's side. */
export interface TestProbe {
  /** Values the `count` generator has produced so far (pulled by the transport). */
  pulled: number;
  /** Subscriptions whose generator ran its `finally`. */
  finished: string[];
  /** Calls of `slow` that started, and those whose signal fired. */
  slowStarted: number;
  aborted: number;
}

/** The context of the test router: only the probe. */
export interface TestContext {
  probe: TestProbe;
}

/** A fresh probe with nothing recorded. */
export function createTestProbe(): TestProbe {
  return { pulled: 0, finished: [], slowStarted: 0, aborted: 0 };
}

const t = initFleetTRPC<TestContext>();

/** A small router with one procedure per transport behaviour under test. */
export const testRouter = t.router({
  echo: t.procedure.input(z.object({ text: z.string() })).query(({ input }) => ({ text: input.text })),
  add: t.procedure.input(z.object({ a: z.number(), b: z.number() })).mutation(({ input }) => input.a + input.b),
  count: t.procedure.input(z.object({ to: z.number().int() })).subscription(async function* ({ ctx, input }) {
    try {
      for (let i = 0; i < input.to; i++) {
        ctx.probe.pulled++;
        yield i;
      }
    } finally {
      ctx.probe.finished.push('count');
    }
  }),
  ticks: t.procedure.subscription(async function* ({ ctx, signal }) {
    try {
      for (let i = 0; ; i++) {
        yield i;
        await sleep(1, undefined, { signal });
      }
    } finally {
      ctx.probe.finished.push('ticks');
    }
  }),
  fail: t.procedure.query(() => {
    throw new FleetError('DATASET_NOT_FOUND', 'Dataset "tank/missing" does not exist.', {
      hint: 'Check the name with `zfs list`.',
      details: { dataset: 'tank/missing' },
    });
  }),
  crash: t.procedure.query(() => {
    throw new Error('boom');
  }),
  bigint: t.procedure.query(() => ({ size: 1n })),
  slow: t.procedure.input(z.object({ ms: z.number() })).query(async ({ ctx, input, signal }) => {
    ctx.probe.slowStarted++;
    try {
      await sleep(input.ms, undefined, { signal });
      return 'done';
    } catch (error) {
      ctx.probe.aborted++;
      throw error;
    }
  }),
  stubborn: t.procedure.input(z.object({ ms: z.number() })).query(async ({ input }) => {
    // Ignores its signal on purpose: serveStream must not wait for it forever.
    await sleep(input.ms);
    return 'done';
  }),
});

/** The test router's type, as a controller would import it. */
export type TestRouter = typeof testRouter;
