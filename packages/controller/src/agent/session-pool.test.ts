import { setTimeout } from 'node:timers/promises';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createFakeFleet, fakeFleetConfig } from './fake-fleet.fixture.ts';
import { SessionPool } from './session-pool.ts';

const logger = pino({ level: 'silent' });

/** A pool over the fake fleet that counts the sessions open at each moment. */
function countedPool(limit: number, unreachable: readonly string[] = []) {
  const fleet = createFakeFleet({ a: ['tank'], b: ['tank'], c: ['tank'], d: ['tank'], backup1: ['backup'] });
  const seen = { open: 0, most: 0, opened: [] as string[] };
  const connect = async (host: string) => {
    await setTimeout(2);
    if (unreachable.includes(host)) throw new Error(`${host} is unreachable`);
    seen.open += 1;
    seen.most = Math.max(seen.most, seen.open);
    seen.opened.push(host);
    const session = await fleet.connect(host);
    return { ...session, close: () => ((seen.open -= 1), session.close()) };
  };
  return { pool: new SessionPool(fakeFleetConfig({}), logger, { connect, limit }), seen };
}

describe('SessionPool.lease', () => {
  it('runs leases first come first served within the limit, closing sessions no lease holds', async () => {
    const { pool, seen } = countedPool(2);
    const order: string[] = [];
    await Promise.all(['a', 'b', 'c'].map((host) => pool.lease([host, 'backup1'], async () => void order.push((await pool.get(host)).host))));
    expect(order).toEqual(['a', 'b', 'c']);
    expect(seen.most).toBe(2);
    expect(seen.opened).toEqual(['a', 'backup1', 'b', 'c']);
    await pool.closeAll();
    expect(seen.open).toBe(0);
  });

  it('a lease wider than the limit runs alone rather than never', async () => {
    const { pool, seen } = countedPool(2);
    await Promise.all([pool.lease(['a', 'backup1'], () => setTimeout(5)), pool.lease(['b', 'c', 'd'], async () => void (await Promise.all(['b', 'c', 'd'].map((host) => pool.get(host)))))]);
    expect(seen.most).toBe(3);
    await pool.closeAll();
  });

  it('a host that cannot be reached holds no room: the next lease opens in its place', async () => {
    const { pool, seen } = countedPool(2, ['a']);
    const results = await Promise.all(
      ['a', 'b', 'c'].map((host) =>
        pool.lease([host, 'backup1'], () =>
          pool.get(host).then(
            () => `${host}:ok`,
            (error: Error) => `${host}:${error.message}`,
          ),
        ),
      ),
    );
    expect(results).toEqual(['a:a is unreachable', 'b:ok', 'c:ok']);
    expect(seen.most).toBe(2);
    await pool.closeAll();
  });

  it("sums a host's zfs calls over the sessions the limit made it open", async () => {
    const { pool } = countedPool(2);
    for (const host of ['a', 'b', 'a']) await pool.lease([host, 'backup1'], async () => void (await (await pool.get(host)).agent.listTree.query({ roots: ['tank'] })));
    const calls = await pool.zfsCalls(['a', 'b']);
    expect([calls.get('a')?.total, calls.get('b')?.total]).toEqual([2, 1]);
    expect(pool.timingsOf('a')?.sessions).toBe(2);
    await pool.closeAll();
  });
});
