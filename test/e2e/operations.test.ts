import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, test } from 'vitest';
// @ts-expect-error: the parser ships no types
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { cleanUpPeer, createDatasets, runFleet, snapshotGuids, uniqueName, writeFleetConfig, writeRandomFile } from './support/fleet.ts';

type Family = { name: string; type: string; metrics: Array<{ value: string; labels: Record<string, string> }> };
type Row = { host: string; dataset: string; peer: string; state: string; [key: string]: unknown };

/** writeFleetConfig keeps each config's state beside it. */
const stateDirOf = (config: string) => path.join(path.dirname(config), 'state');
const datasetsOf = (run: { json: { units: Array<{ dataset: string }> } }) => [...new Set(run.json.units.map((unit) => unit.dataset))].sort();

test('fleet run --due runs exactly the entries whose schedule has come, on an injected clock', async () => {
  const hourly = `tank/${uniqueName('Hourly')}`;
  const yearly = `tank/${uniqueName('Yearly')}`;
  const manual = `tank/${uniqueName('Manual')}`;
  for (const dataset of [hourly, yearly, manual]) {
    await createDatasets('src1', [dataset]);
    cleanUpPeer('backup1', `backup/fleet/src1/${dataset}`);
  }
  const config = await writeFleetConfig({
    src1: [
      { dataset: hourly, to: ['backup1'], schedule: '0 * * * *' },
      { dataset: yearly, to: ['backup1'], schedule: '0 0 1 1 *' },
      { dataset: manual, to: ['backup1'] },
    ],
  });

  // Never run: both scheduled entries are due; the one without a schedule never is.
  const first = await runFleet(config, ['run', '--due', '--json', '--now', '2030-06-01T06:10:00Z']);
  expect(first.exitCode, first.stderr).toBe(0);
  expect(datasetsOf(first)).toEqual([hourly, yearly].sort());

  // Two hours later (a June day, so no new year in any zone) only the hourly entry is due.
  const second = await runFleet(config, ['run', '--due', '--json', '--now', '2030-06-01T08:10:00Z']);
  expect(second.exitCode, second.stderr).toBe(0);
  expect(datasetsOf(second)).toEqual([hourly]);
  expect(second.json.units[0]).toMatchObject({ status: 'ok', steps: [{ action: 'incremental' }] });
  expect((await snapshotGuids('backup1', `backup/fleet/src1/${hourly}`)).size).toBe(2);
  expect((await snapshotGuids('backup1', `backup/fleet/src1/${yearly}`)).size).toBe(1);
  expect((await snapshotGuids('backup1', `backup/fleet/src1/${manual}`)).size).toBe(0);

  // Right after, nothing is due, in JSON as in words; FLEET_NOW sets the clock too.
  const third = await runFleet(config, ['run', '--due', '--json'], { FLEET_NOW: '2030-06-01T08:20:00Z' });
  expect(third.exitCode, third.stderr).toBe(0);
  expect(third.json).toMatchObject({ command: 'run', ok: true, units: [] });
  expect((await runFleet(config, ['run', '--due', '--now', '2030-06-01T08:20:00Z'])).stdout).toContain('Nothing is due.');

  // Status says when each is next due.
  const status = await runFleet(config, ['status', '--json', '--now', '2030-06-01T08:20:00Z']);
  const rows: Row[] = status.json.rows;
  expect(rows.find((row) => row.dataset === hourly)).toMatchObject({ due: false, nextDue: expect.stringMatching(/^2030-06-01T/) });
  expect(rows.find((row) => row.dataset === yearly)).toMatchObject({ due: false, nextDue: expect.stringMatching(/^(2030-12-31|2031-01-01)T/) });
  expect(rows.find((row) => row.dataset === manual)).toMatchObject({ due: false, state: 'NEVER' });
  expect(rows.find((row) => row.dataset === manual)?.nextDue).toBeUndefined();

  // Without --due, run refuses as a usage error.
  expect((await runFleet(config, ['run'])).exitCode).toBe(2);
});

test('two controllers at once: the second refuses with LOCKED naming the first, and the first finishes', async () => {
  const big = `tank/${uniqueName('Big')}`;
  const small = `tank/${uniqueName('Small')}`;
  await createDatasets('src1', [big]);
  await createDatasets('src2', [small]);
  cleanUpPeer('backup1', `backup/fleet/src1/${big}`);
  cleanUpPeer('backup1', `backup/fleet/src2/${small}`);
  await writeRandomFile('src1', big, 'big.bin', 40_000_000);
  const config = await writeFleetConfig({ src1: [{ dataset: big, to: ['backup1'] }], src2: [{ dataset: small, to: ['backup1'], schedule: '* * * * *' }] });
  const lock = path.join(stateDirOf(config), 'lock');

  const first = runFleet(config, ['backup', 'src1', '--json']);
  const deadline = Date.now() + 20_000;
  while (!existsSync(lock) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const holder = JSON.parse(await readFile(lock, 'utf8')) as { pid: number; command: string };
  expect(holder.command).toBe('backup');

  const second = await runFleet(config, ['run', '--due', '--json']);
  expect(second.exitCode).toBe(1);
  expect(second.json.error).toMatchObject({ code: 'LOCKED', message: expect.stringContaining(`pid ${holder.pid}`) });
  expect((await snapshotGuids('src2', small)).size).toBe(0);

  const done = await first;
  expect(done.exitCode, done.stderr).toBe(0);
  expect(existsSync(lock)).toBe(false);
  // Once the first is done, the second goes ahead.
  const again = await runFleet(config, ['run', '--due', '--json']);
  expect(again.exitCode, again.stderr).toBe(0);
  expect(datasetsOf(again)).toEqual([small]);
});

test('a lock held by a live process is refused; one left by a dead process is taken over', async () => {
  const dataset = `tank/${uniqueName('L')}`;
  await createDatasets('src1', [dataset]);
  cleanUpPeer('backup1', `backup/fleet/src1/${dataset}`);
  const config = await writeFleetConfig({ src1: [{ dataset, to: ['backup1'] }] });
  const stateDir = stateDirOf(config);
  await mkdir(stateDir, { recursive: true });
  const lock = path.join(stateDir, 'lock');

  // This test's own process stands in for a live controller.
  await writeFile(lock, `${JSON.stringify({ pid: process.pid, command: 'backup', since: '2030-06-01T07:00:00.000Z' })}\n`);
  const refused = await runFleet(config, ['backup', 'src1', '--json']);
  expect(refused.exitCode).toBe(1);
  expect(refused.json.error).toMatchObject({ code: 'LOCKED', message: expect.stringContaining(`pid ${process.pid}`), hint: expect.any(String) });
  expect((await snapshotGuids('src1', dataset)).size).toBe(0);
  // A plan changes nothing and needs no lock.
  expect((await runFleet(config, ['plan', 'src1', '--json'])).exitCode).toBe(0);

  await writeFile(lock, `${JSON.stringify({ pid: 999_999_999, command: 'backup', since: '2030-06-01T07:00:00.000Z' })}\n`);
  const taken = await runFleet(config, ['backup', 'src1', '--json']);
  expect(taken.exitCode, taken.stderr).toBe(0);
  expect(existsSync(lock)).toBe(false);
});

test('fleet status reflects a success, a failure with its reason and a stale rpo; the textfile holds the series', async () => {
  const dataset = `tank/${uniqueName('S')}`;
  await createDatasets('src1', [dataset]);
  cleanUpPeer('backup1', `backup/fleet/src1/${dataset}`);
  await writeRandomFile('src1', dataset, 'a.bin', 200_000);
  const config = await writeFleetConfig(
    { src1: [{ dataset, to: ['backup1', 'backup9'], rpo: '1h', schedule: '0 * * * *' }] },
    {
      // backup9 is not in the lab: nothing answers at its address.
      extraHosts: { backup9: { address: '10.77.0.29', receive: { root: 'backup/fleet' } } },
      ssh: { connectTimeoutMs: 3000 },
      // Relative to the config file.
      top: { metrics: { textfile: './textfile/zfs-fleet.prom' } },
    },
  );
  const run = await runFleet(config, ['backup', 'src1', '--json']);
  expect(run.exitCode).toBe(1);
  const snapshot = run.json.hosts.find((host: { host: string }) => host.host === 'src1').snapshot;

  const fresh = await runFleet(config, ['status', '--json']);
  expect(fresh.exitCode).toBe(1);
  const byPeer = Object.fromEntries((fresh.json.rows as Row[]).map((row) => [row.peer, row]));
  expect(byPeer.backup1).toMatchObject({ state: 'OK', rpoState: 'OK', failing: false, lastSuccess: { snapshot }, newestCopy: { snapshot }, rpoMs: 3_600_000 });
  expect(byPeer.backup1).not.toHaveProperty('lastFailure');
  expect(byPeer.backup9).toMatchObject({ state: 'FAILING', failing: true, rpoState: 'NEVER', lastFailure: { code: 'SSH_CONNECT_FAILED', message: expect.stringContaining('10.77.0.29') } });
  expect(byPeer.backup9).not.toHaveProperty('lastSuccess');

  const later = new Date(Date.now() + 2 * 3_600_000).toISOString();
  const stale = await runFleet(config, ['status', '--json', '--now', later]);
  expect((stale.json.rows as Row[]).find((row) => row.peer === 'backup1')).toMatchObject({ state: 'STALE', rpoState: 'STALE', due: true });
  const text = await runFleet(config, ['status', '--now', later]);
  expect(text.stdout).toMatch(/^STATE\s+HOST\s+DATASET\s+PEER\s+LAST SUCCESS\s+NEWEST COPY\s+RPO\s+NEXT DUE\s+LAST FAILURE$/m);
  expect(text.stdout).toMatch(/STALE\s+src1\s+\S+\s+backup1\s.*\b2h old/);
  expect(text.stdout).toMatch(/FAILING\s+src1\s+\S+\s+backup9\s.*SSH_CONNECT_FAILED/);
  expect(text.stdout).not.toContain('\x1b['); // no colours without a terminal

  const textfile = path.join(path.dirname(config), 'textfile/zfs-fleet.prom');
  const families = parsePrometheusTextFormat(await readFile(textfile, 'utf8')) as Family[];
  const series = (name: string, peer: string) => families.find((f) => f.name === name)?.metrics.find((m) => m.labels.peer === peer && m.labels.dataset === dataset && m.labels.host === 'src1');
  const startedAt = Date.parse(run.json.startedAt) / 1000;
  expect(Number(series('zfs_fleet_last_success_timestamp_seconds', 'backup1')?.value)).toBeGreaterThanOrEqual(Math.floor(startedAt));
  expect(Number(series('zfs_fleet_newest_copy_timestamp_seconds', 'backup1')?.value)).toBeCloseTo(startedAt, 0);
  expect(series('zfs_fleet_last_success_timestamp_seconds', 'backup9')).toBeUndefined();
  expect(series('zfs_fleet_rpo_seconds', 'backup1')?.value).toBe('3600');
  expect(series('zfs_fleet_last_run_success', 'backup1')?.value).toBe('1');
  expect(series('zfs_fleet_last_run_success', 'backup9')?.value).toBe('0');
  expect(Number(series('zfs_fleet_last_run_bytes', 'backup1')?.value)).toBeGreaterThan(200_000);
  expect(Number(series('zfs_fleet_last_run_duration_seconds', 'backup1')?.value)).toBeGreaterThan(0);
  expect(series('zfs_fleet_failures_total', 'backup1')?.value).toBe('0');
  expect(series('zfs_fleet_failures_total', 'backup9')?.value).toBe('1');
  expect(families.find((f) => f.name === 'zfs_fleet_failures_total')?.type).toBe('COUNTER');
  // The alert rule's condition, evaluated at `later`: the copy on backup1 is older than its rpo.
  const newest = Number(series('zfs_fleet_newest_copy_timestamp_seconds', 'backup1')?.value);
  expect(Date.parse(later) / 1000 - newest).toBeGreaterThan(Number(series('zfs_fleet_rpo_seconds', 'backup1')?.value));
  // And the journal behind it all is plain JSON lines.
  const journal = (await readFile(path.join(stateDirOf(config), 'journal.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(journal.map((record: { peer: string; status: string }) => [record.peer, record.status]).sort()).toEqual([
    ['backup1', 'ok'],
    ['backup9', 'failed'],
  ]);
});
