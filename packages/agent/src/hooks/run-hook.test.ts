import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { HOOK_OUTPUT_TAIL_BYTES, isHookSuccess, runHook } from './run-hook.ts';

const env = { FLEET_HOST: 'src1', FLEET_DATASET: 'tank/a', FLEET_SNAPSHOT: 'tank/a@fleet-x' };

/** Running, not a zombie waiting for init to reap it. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('runHook', () => {
  it('runs the command through sh -c with the FLEET_ variables in its environment', async () => {
    const result = await runHook('echo "$FLEET_HOST $FLEET_DATASET $FLEET_SNAPSHOT"; echo oops >&2', { env, timeoutMs: 5_000 });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, stdoutTail: 'src1 tank/a tank/a@fleet-x\n', stderrTail: 'oops\n' });
    expect(isHookSuccess(result)).toBe(true);
  });

  it('reports a failing command with its exit code and the tail of its stderr', async () => {
    const result = await runHook('echo "database not flushed" >&2; exit 3', { env, timeoutMs: 5_000 });
    expect(result).toMatchObject({ exitCode: 3, timedOut: false, stderrTail: 'database not flushed\n' });
    expect(isHookSuccess(result)).toBe(false);
  });

  it('keeps only the tail of a long output', async () => {
    const result = await runHook(`head -c 100000 /dev/zero | tr '\\0' a; echo END`, { env, timeoutMs: 5_000 });
    expect(result.stdoutTail.endsWith('aEND\n')).toBe(true);
    expect(result.stdoutTail.startsWith('…')).toBe(true);
    expect(Buffer.byteLength(result.stdoutTail)).toBeLessThanOrEqual(HOOK_OUTPUT_TAIL_BYTES + 3);
  });

  it('kills the command and its children at the timeout, leaving no process behind', async () => {
    const pidFile = `/tmp/zfs-fleet-hook-test-${process.pid}`;
    const started = Date.now();
    const result = await runHook(`sleep 30 & echo $! > ${pidFile}; sleep 30`, { env, timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGTERM' });
    const child = Number(await readFile(pidFile, 'utf8'));
    expect(child).toBeGreaterThan(0);
    expect(isAlive(child)).toBe(false);
  });

  it('kills what a successful command left running in its group', async () => {
    const pidFile = `/tmp/zfs-fleet-hook-test-bg-${process.pid}`;
    const result = await runHook(`sleep 30 >/dev/null 2>&1 & echo $! > ${pidFile}`, { env, timeoutMs: 5_000 });
    expect(result.exitCode).toBe(0);
    expect(isAlive(Number(await readFile(pidFile, 'utf8')))).toBe(false);
  });
});
