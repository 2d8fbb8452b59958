import { describe, expect, it } from 'vitest';
import { FleetError } from '@zfs-fleet/protocol';
import { runPhases, type Phase } from './run-phases.ts';

const phase = (name: string, run: Phase<string[]>['run'], always = false): Phase<string[]> => ({ name, run, always });
const says = (name: string): Phase<string[]> => phase(name, async (log) => void log.push(name));

describe('runPhases', () => {
  it('runs each phase in order and reports each by name', async () => {
    const log: string[] = [];
    const outcome = await runPhases([says('snapshot'), says('replicate'), phase('prune', async () => 'skipped')], log);
    expect(log).toEqual(['snapshot', 'replicate']);
    expect(outcome).toMatchObject({
      ok: true,
      phases: [
        { name: 'snapshot', status: 'ok' },
        { name: 'replicate', status: 'ok' },
        { name: 'prune', status: 'skipped' },
      ],
    });
  });

  it('a failure fails the run with its code, skips what follows, but still runs what must always run', async () => {
    const log: string[] = [];
    const failing = phase('replicate', async () => {
      throw new FleetError('STREAM_FAILED', 'the stream broke');
    });
    const outcome = await runPhases([says('lock'), failing, says('prune'), phase('unlock', async (l) => void l.push('unlock'), true)], log);
    expect(log).toEqual(['lock', 'unlock']);
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toMatchObject({ code: 'STREAM_FAILED', message: 'the stream broke' });
    expect(outcome.phases.map((p) => `${p.name}:${p.status}`)).toEqual(['lock:ok', 'replicate:failed', 'prune:skipped', 'unlock:ok']);
  });
});
