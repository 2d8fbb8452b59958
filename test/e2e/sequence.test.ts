import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { expect, test } from 'vitest';
import { cleanUpPeer, createDatasets, FLEET_BIN, journalOf, lab, runFleet, snapshotGuids, uniqueName, writeFleetConfig } from './support/fleet.ts';

type Step = { step: string; status: string; detail?: string; error?: { code: string; message: string }; hooks?: Array<{ exitCode: number | null; timedOut: boolean; stderrTail: string }> };
const stepsOf = (run: { json: { sequences: Array<{ dataset: string; steps: Step[] }> } }, dataset: string) => run.json.sequences.find((s) => s.dataset === dataset)!.steps;
const step = (steps: Step[], name: string) => steps.find((s) => s.step === name)!;

/** Running, not a zombie: the lab's hosts share the machine's pid namespace. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of live processes whose environment holds `FLEET_DATASET=<dataset>`: a hook and everything it started. */
function processesOfHook(dataset: string): number[] {
  const wanted = `FLEET_DATASET=${dataset}`;
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(wanted) && isAlive(Number(pid));
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** Reads a file of a backup copy (received unmounted: mount it first). */
async function readCopyFile(host: string, dataset: string, file: string): Promise<string> {
  const script = 'if [ "$(zfs get -H -o value mounted "$1")" != yes ]; then zfs mount "$1"; fi; cat "$(zfs get -H -o value mountpoint "$1")/$2"';
  // The lab trims what a command prints.
  return (await lab().exec(host, ['sh', '-c', script, 'sh', dataset, file])).stdout;
}

test('a preSnapshot hook runs before the snapshot: the file it writes is in the snapshot, with FLEET_ variables', async () => {
  const dataset = `tank/${uniqueName('Hook')}`;
  await createDatasets('src1', [dataset]);
  cleanUpPeer('backup1', `backup/fleet/src1/${dataset}`);
  const config = await writeFleetConfig({
    src1: [{ dataset, to: ['backup1'], hooks: { preSnapshot: ['echo "$FLEET_HOST $FLEET_SNAPSHOT" > "$(zfs get -H -o value mountpoint "$FLEET_DATASET")/flushed.txt"'] } } as never],
  });
  const run = await runFleet(config, ['backup', 'src1', '--json']);
  expect(run.exitCode, run.stderr).toBe(0);
  const snapshot = run.json.hosts.find((h: { host: string }) => h.host === 'src1').snapshot;
  expect(await readCopyFile('backup1', `backup/fleet/src1/${dataset}`, 'flushed.txt')).toBe(`src1 ${dataset}@${snapshot}`);
  expect(stepsOf(run, dataset).map((s) => `${s.step}:${s.status}`)).toEqual(['lock:ok', 'preSnapshot:ok', 'snapshot:ok', 'postSnapshot:skipped', 'replicate:ok', 'export:skipped', 'pruneExports:skipped', 'pruneSnapshots:skipped', 'unlock:ok']);
});

test('a failing preSnapshot takes no snapshot, still runs postSnapshot, and reports the exit code and stderr tail (exit 1)', async () => {
  const dataset = `tank/${uniqueName('HookFail')}`;
  const marks = await mkdtemp(path.join(os.tmpdir(), 'fleet-hook-'));
  await createDatasets('src1', [dataset]);
  cleanUpPeer('backup1', `backup/fleet/src1/${dataset}`);
  const config = await writeFleetConfig({
    src1: [{ dataset, to: ['backup1'], hooks: { preSnapshot: ['echo "database refused to flush" >&2; exit 3'], postSnapshot: [`touch ${marks}/post-ran`] } } as never],
  });
  const run = await runFleet(config, ['backup', 'src1', '--json']);
  expect(run.exitCode).toBe(1);
  expect((await snapshotGuids('src1', dataset)).size).toBe(0);
  const steps = stepsOf(run, dataset);
  expect(step(steps, 'preSnapshot')).toMatchObject({ status: 'failed', error: { code: 'HOOK_FAILED' }, hooks: [{ exitCode: 3, timedOut: false, stderrTail: 'database refused to flush\n' }] });
  expect(step(steps, 'preSnapshot').error!.message).toContain('exited with code 3: database refused to flush');
  expect(step(steps, 'postSnapshot')).toMatchObject({ status: 'ok' });
  expect(await readFile(path.join(marks, 'post-ran'), 'utf8')).toBe('');
  expect(step(steps, 'snapshot')).toBeUndefined();
  expect(step(steps, 'unlock')).toMatchObject({ status: 'ok' });
  expect(run.json.units[0]).toMatchObject({ status: 'failed', error: { code: 'HOOK_FAILED' } });
  const text = await runFleet(config, ['backup', 'src1']);
  expect(text.stdout).toContain('HOOK_FAILED');
});

test('a hook that sleeps past its timeout is killed with its children, and reported', async () => {
  const dataset = `tank/${uniqueName('HookSlow')}`;
  const marks = await mkdtemp(path.join(os.tmpdir(), 'fleet-hook-'));
  await createDatasets('src1', [dataset]);
  const config = await writeFleetConfig({
    src1: [{ dataset, to: ['backup1'], sequence: ['lock', 'preSnapshot', 'snapshot', 'unlock'], hooks: { preSnapshot: [`sleep 300 & echo $! > ${marks}/child.pid; sleep 300`], timeout: '2s' } } as never],
  });
  const started = Date.now();
  const run = await runFleet(config, ['backup', 'src1', '--json']);
  expect(Date.now() - started).toBeLessThan(60_000);
  expect(run.exitCode).toBe(1);
  expect(step(stepsOf(run, dataset), 'preSnapshot')).toMatchObject({ status: 'failed', error: { code: 'HOOK_FAILED', message: expect.stringContaining('timed out') }, hooks: [{ timedOut: true }] });
  const child = Number(await readFile(path.join(marks, 'child.pid'), 'utf8'));
  expect(child).toBeGreaterThan(0);
  expect(isAlive(child)).toBe(false);
  // Nothing the hook started is left: not its shell, not the background sleep.
  expect(processesOfHook(dataset)).toEqual([]);
  expect((await snapshotGuids('src1', dataset)).size).toBe(0);
});

/** Waits until src1's agent holds the lock of `dataset` (under the host's private /run). */
async function waitForHostLock(dataset: string): Promise<void> {
  const file = `/run/zfs-fleet/locks/${encodeURIComponent(dataset)}.lock`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await lab().exec('src1', ['test', '-e', file], { reject: false })).exitCode === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`src1 never held the lock of ${dataset}`);
}

test('two controllers with their own state: one runs, the other is LOCKED naming it; prune refuses too; after SIGKILL the next run completes', async () => {
  const dataset = `tank/${uniqueName('Lock')}`;
  await createDatasets('src1', [dataset]);
  cleanUpPeer('backup1', `backup/fleet/src1/${dataset}`);
  // The hook keeps the first run inside its lock long enough to watch it.
  const entry = { dataset, to: ['backup1'], keep: { daily: 7 }, lockWait: '60s', hooks: { preSnapshot: ['sleep 6'] } };
  const first = await writeFleetConfig({ src1: [entry as never] });
  const second = await writeFleetConfig({ src1: [{ ...entry, lockWait: undefined } as never] });

  const running = execa('node', [FLEET_BIN, '--config', first, 'backup', 'src1', '--json'], { reject: false, env: { FLEET_CONFIG: '' } });
  await waitForHostLock(dataset);
  const refused = await runFleet(second, ['backup', 'src1', '--json']);
  expect(refused.exitCode).toBe(1);
  const lock = step(stepsOf(refused, dataset), 'lock');
  expect(lock).toMatchObject({ status: 'failed', error: { code: 'LOCKED' } });
  expect(lock.error!.message).toContain(`controller host "${os.hostname()}" (pid ${running.pid}, "fleet backup"`);
  const prune = await runFleet(second, ['prune', 'src1', '--json']);
  expect(prune.exitCode).toBe(1);
  expect(prune.json.units[0]).toMatchObject({ status: 'failed', error: { code: 'LOCKED' } });
  // The refused prune is on record in the second controller's journal.
  const refusals = await journalOf(second);
  expect(refusals.filter((record) => record.kind === 'prune')).toMatchObject([{ command: 'prune', on: 'src1', status: 'failed', destroyed: [], error: { code: 'LOCKED' } }]);

  // The first controller dies mid-run (inside its hook); the next run still gets the entry done.
  running.kill('SIGKILL');
  await running;
  const after = await runFleet(first, ['backup', 'src1', '--json']);
  expect(after.exitCode, after.stderr).toBe(0);
  expect(step(stepsOf(after, dataset), 'lock').status).toBe('ok');
  expect(after.json.units[0]).toMatchObject({ status: 'ok' });
  expect((await snapshotGuids('backup1', `backup/fleet/src1/${dataset}`)).size).toBe(1);
});

test('a sequence without replicate snapshots and prunes only; an invalid sequence is a config error (exit 2, nothing touched)', async () => {
  const dataset = `tank/${uniqueName('Seq')}`;
  await createDatasets('src1', [dataset]);
  const entry = { dataset, to: ['backup1'], schedule: '0 12 * * *', sequence: ['lock', 'snapshot', 'pruneSnapshots', 'unlock'], keep: { daily: 1 } };
  const config = await writeFleetConfig({ src1: [entry as never] });
  let last = '';
  const taken: string[] = [];
  for (const now of ['2030-04-01T12:00:00Z', '2030-04-02T12:00:00Z', '2030-04-03T12:00:00Z']) {
    const run = await runFleet(config, ['backup', 'src1', '--json'], { FLEET_NOW: now });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json.units).toEqual([]);
    expect(stepsOf(run, dataset).map((s) => `${s.step}:${s.status}`)).toEqual(['lock:ok', 'snapshot:ok', 'pruneSnapshots:ok', 'unlock:ok']);
    last = run.json.hosts.find((h: { host: string }) => h.host === 'src1').snapshot;
    taken.push(last);
    expect(run.json.prune).toMatchObject([
      { on: 'src1', status: 'ok' },
      { on: 'backup1', status: 'ok' },
    ]);
  }
  // No unit records (nothing was sent), but each run is on record: its steps and snapshot, and its prune with what it destroyed.
  const journal = await journalOf(config);
  expect(journal.filter((record) => record.kind === undefined)).toEqual([]);
  expect(journal.filter((record) => record.kind === 'sequence').map((record) => [record.status, record.snapshot, record.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`).join(' ')])).toEqual(
    taken.map((name) => ['ok', name, 'lock:ok snapshot:ok pruneSnapshots:ok unlock:ok']),
  );
  expect(journal.filter((record) => record.on === 'src1').map((record) => [record.command, record.status, record.destroyed.length])).toEqual([
    ['backup', 'ok', 0],
    ['backup', 'ok', 1],
    ['backup', 'ok', 1],
  ]);
  expect(last).toMatch(/^fleet-20300403T12/);
  expect([...(await snapshotGuids('src1', dataset)).keys()]).toEqual([last]);
  // The scheduler reads that record: not due again the same day, due the next.
  const sameDay = await runFleet(config, ['run', '--due', '--json'], { FLEET_NOW: '2030-04-03T12:30:00Z' });
  expect(sameDay.json).toEqual({ command: 'run', ok: true, units: [] });
  expect([...(await snapshotGuids('src1', dataset)).keys()]).toEqual([last]);
  const nextDay = await runFleet(config, ['run', '--due', '--json'], { FLEET_NOW: '2030-04-04T12:00:30Z' });
  expect(nextDay.exitCode, nextDay.stderr).toBe(0);
  last = nextDay.json.hosts.find((h: { host: string }) => h.host === 'src1').snapshot;
  expect(last).toMatch(/^fleet-20300404T12/);
  expect([...(await snapshotGuids('src1', dataset)).keys()]).toEqual([last]);
  expect(
    await lab()
      .zfs('backup1', ['list', '-H', '-o', 'name', `backup/fleet/src1/${dataset}`])
      .catch(() => 'none'),
  ).toBe('none');

  const invalid = await writeFleetConfig({ src1: [{ ...entry, sequence: ['lock', 'pruneSnapshots', 'snapshot', 'unlock'] } as never] });
  const refused = await runFleet(invalid, ['backup', 'src1', '--json'], { FLEET_NOW: '2030-04-05T12:00:00Z' });
  expect(refused.exitCode).toBe(2);
  expect(refused.json.error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('hosts.src1.backups.0.sequence.2: "snapshot" cannot come after "pruneSnapshots"') });
  expect([...(await snapshotGuids('src1', dataset)).keys()]).toEqual([last]);
});
