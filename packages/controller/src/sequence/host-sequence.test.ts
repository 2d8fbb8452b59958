import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { FleetConfigSchema, type BackupEntry, type FleetConfig, type HookResult, type SnapshotName } from '@zfs-fleet/protocol';
import type { AgentSession } from '../agent/connect-agent.ts';
import { HostSequence } from './host-sequence.ts';

const config = (entries: unknown[]): FleetConfig =>
  FleetConfigSchema.parse({
    ssh: { identityFile: '/k', knownHosts: '/h' },
    hosts: { src1: { address: 'src1', backups: entries }, backup1: { address: 'backup1', receive: { root: 'backup/fleet' } } },
  });

/** An agent that holds every lock but those in `lockedByOthers`, and runs hooks as `hook` says. */
function fakeSession(options: { lockedByOthers?: string[]; hook?: (command: string) => Partial<HookResult> }) {
  const calls: string[] = [];
  const session = {
    host: 'src1',
    agent: {
      sequence: {
        lock: {
          mutate: async ({ entries }: { entries: Array<{ dataset: string }> }) => (
            calls.push(`lock ${entries.map((e) => e.dataset).join(',')}`), entries.map(({ dataset }) => (options.lockedByOthers?.includes(dataset) ? { dataset, acquired: false, error: { code: 'LOCKED', message: `"${dataset}" is locked by ctl-b` } } : { dataset, acquired: true }))
          ),
        },
        unlock: { mutate: async ({ datasets }: { datasets: string[] }) => (calls.push(`unlock ${datasets.join(',')}`), { released: datasets.length }) },
        runHooks: {
          mutate: async ({ commands, phase, env }: { commands: string[]; phase: string; env: Record<string, string> }) => {
            calls.push(`${phase} ${env.FLEET_SNAPSHOT}`);
            return commands.map((command) => ({ command, exitCode: 0, timedOut: false, durationMs: 1, stdoutTail: '', stderrTail: '', ...options.hook?.(command) }));
          },
        },
      },
    },
  };
  return { session: session as unknown as AgentSession, calls };
}

const snapshot = 'fleet-20300101T000000.000Z' as SnapshotName;

function sequenceFor(entries: unknown[], session: AgentSession) {
  const fleet = config(entries);
  const backups = fleet.hosts['src1']!.backups as BackupEntry[];
  return { sequence: new HostSequence({ config: fleet, host: 'src1', session, entries: backups, command: 'backup', startedAt: new Date(0), dryRun: false, logger: pino({ level: 'silent' }) }), backups };
}

describe('HostSequence', () => {
  it('an entry another run holds is LOCKED and stops there; the others go on, and only held locks are released', async () => {
    const { session, calls } = fakeSession({ lockedByOthers: ['tank/b'] });
    const { sequence } = sequenceFor(
      [
        { dataset: 'tank/a', to: ['backup1'] },
        { dataset: 'tank/b', to: ['backup1'] },
      ],
      session,
    );
    await sequence.lock();
    expect(sequence.entriesFor('snapshot').map((e) => e.dataset)).toEqual(['tank/a']);
    expect(sequence.abortedBy('tank/b')).toMatchObject({ code: 'LOCKED' });
    await sequence.unlock();
    expect(calls).toEqual(['lock tank/a,tank/b', 'unlock tank/a']);
    const [a, b] = sequence.reports();
    expect(a!.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['lock:ok', 'unlock:ok']);
    expect(b).toMatchObject({
      ok: false,
      steps: [
        { step: 'lock', status: 'failed', error: { code: 'LOCKED' } },
        { step: 'unlock', status: 'skipped' },
      ],
    });
  });

  it('a failing preSnapshot aborts its entry (no snapshot), and its postSnapshot still runs', async () => {
    const { session, calls } = fakeSession({ hook: (command) => (command === 'flush' ? { exitCode: 3, stderrTail: 'refused\n' } : {}) });
    const hooks = { preSnapshot: ['flush'], postSnapshot: ['thaw'] };
    const { sequence } = sequenceFor(
      [
        { dataset: 'tank/a', to: ['backup1'], hooks },
        { dataset: 'tank/b', to: ['backup1'], hooks: { ...hooks, preSnapshot: ['ok'] } },
      ],
      session,
    );
    await sequence.lock();
    await sequence.hooks('preSnapshot', snapshot);
    expect(sequence.entriesFor('snapshot').map((e) => e.dataset)).toEqual(['tank/b']);
    await sequence.hooks('postSnapshot', snapshot);
    expect(calls.filter((call) => call.startsWith('postSnapshot'))).toEqual([`postSnapshot tank/a@${snapshot}`, `postSnapshot tank/b@${snapshot}`]);
    expect(sequence.abortedBy('tank/a')).toMatchObject({ code: 'HOOK_FAILED', message: expect.stringContaining('exited with code 3: refused') });
    expect(sequence.reports()[0]!.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['lock:ok', 'preSnapshot:failed', 'postSnapshot:ok']);
  });

  it('a failing postSnapshot fails the entry after its snapshot; nothing later runs for it', async () => {
    const { session } = fakeSession({ hook: () => ({ exitCode: null, signal: 'SIGTERM', timedOut: true }) });
    const { sequence, backups } = sequenceFor([{ dataset: 'tank/a', to: ['backup1'], hooks: { postSnapshot: ['thaw'] } }], session);
    sequence.record(backups, 'snapshot', { status: 'ok' });
    await sequence.hooks('postSnapshot', snapshot);
    expect(sequence.entriesFor('replicate')).toEqual([]);
    expect(sequence.abortedBy('tank/a')).toMatchObject({ code: 'HOOK_FAILED', message: expect.stringContaining('timed out and was killed with its process group') });
  });

  it('an entry runs only the steps its sequence names', async () => {
    const { session, calls } = fakeSession({});
    const { sequence } = sequenceFor([{ dataset: 'tank/a', to: ['backup1'], keep: { daily: 1 }, sequence: ['snapshot', 'pruneSnapshots'] }], session);
    await sequence.lock();
    expect(calls).toEqual([]);
    expect(sequence.entriesFor('replicate')).toEqual([]);
    expect(sequence.entriesFor('pruneSnapshots').map((e) => e.dataset)).toEqual(['tank/a']);
  });
});
