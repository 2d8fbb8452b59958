import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, test } from 'vitest';
// @ts-expect-error: the parser ships no types
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { parse } from 'yaml';
import { cleanUpPeer, createDatasets, runFleet, snapshotGuids, uniqueName, writeFleetConfig } from './support/fleet.ts';

async function stateDirOf(config: string): Promise<string> {
  return parse(await readFile(config, 'utf8')).stateDir;
}

test('fleet run --due runs exactly the entries whose schedule has come, on an injected clock', async () => {
  const hourly = `tank/${uniqueName('Hourly')}`;
  const yearly = `tank/${uniqueName('Yearly')}`;
  await createDatasets('src1', [hourly]);
  await createDatasets('src1', [yearly]);
  cleanUpPeer('backup1', `backup/fleet/src1/${hourly}`);
  cleanUpPeer('backup1', `backup/fleet/src1/${yearly}`);
  const config = await writeFleetConfig({
    src1: [
      { dataset: hourly, to: ['backup1'], schedule: '0 * * * *' },
      { dataset: yearly, to: ['backup1'], schedule: '0 0 1 1 *' },
    ] as never,
  });
  // Never run: both are due.
  const first = await runFleet(config, ['run', '--due', '--json']);
  expect(first.exitCode, first.stderr).toBe(0);
  expect(first.json.units.map((u: { dataset: string }) => u.dataset).sort()).toEqual([hourly, yearly].sort());

  // Two hours later only the hourly entry is due (unless a new year began in between).
  const later = new Date(Date.parse(first.json.startedAt) + 2 * 3_600_000);
  if (later.getUTCFullYear() !== new Date(first.json.startedAt).getUTCFullYear()) return;
  const second = await runFleet(config, ['run', '--due', '--now', later.toISOString(), '--json']);
  expect(second.exitCode, second.stderr).toBe(0);
  expect(second.json.units.map((u: { dataset: string }) => u.dataset)).toEqual([hourly]);
  expect((await snapshotGuids('backup1', `backup/fleet/src1/${hourly}`)).size).toBe(2);
  expect((await snapshotGuids('backup1', `backup/fleet/src1/${yearly}`)).size).toBe(1);

  // Right after, nothing is due.
  const third = await runFleet(config, ['run', '--due', '--now', later.toISOString()]);
  expect(third.stdout).toContain('Nothing is due.');
});

test('two controllers at once: the second refuses with LOCKED, naming the first', async () => {
  const dataset = `tank/${uniqueName('L')}`;
  await createDatasets('src1', [dataset]);
  cleanUpPeer('backup1', `backup/fleet/src1/${dataset}`);
  const config = await writeFleetConfig({ src1: [{ dataset, to: ['backup1'] }] });
  const { mkdir } = await import('node:fs/promises');
  const stateDir = await stateDirOf(config);
  await mkdir(stateDir, { recursive: true });
  // A live controller holds the lock: this test process stands in for it.
  await writeFile(path.join(stateDir, 'lock'), `${process.pid} backup 2026-11-23T07:00:00Z\n`);
  const second = await runFleet(config, ['backup', 'src1', '--json']);
  expect(second.exitCode).toBe(1);
  expect(second.json.error).toMatchObject({ code: 'LOCKED', message: expect.stringContaining(`pid ${process.pid}`) });
  expect((await snapshotGuids('src1', dataset)).size).toBe(0);
});

test('fleet status reflects a success, a failure with its reason and a stale rpo; the textfile holds the series', async () => {
  const dataset = `tank/${uniqueName('S')}`;
  await createDatasets('src1', [dataset]);
  cleanUpPeer('backup1', `backup/fleet/src1/${dataset}`);
  const config = await writeFleetConfig(
    { src1: [{ dataset, to: ['backup1', 'backup9'], rpo: '1h' } as never] },
    { extraHosts: { backup9: { address: '10.77.0.29', receive: { root: 'backup/fleet' } } }, ssh: { connectTimeoutMs: 3000 } },
  );
  const run = await runFleet(config, ['backup', 'src1', '--json']);
  expect(run.exitCode).toBe(1);

  const fresh = await runFleet(config, ['status', '--json']);
  const byPeer = Object.fromEntries(fresh.json.rows.map((row: { peer: string }) => [row.peer, row]));
  expect(byPeer.backup1).toMatchObject({ state: 'OK', rpoState: 'OK', failing: false, lastSuccess: { snapshot: run.json.hosts[0].snapshot } });
  expect(byPeer.backup9).toMatchObject({ state: 'FAILING', lastFailure: { code: 'SSH_CONNECT_FAILED' }, rpoState: 'NEVER' });
  expect(fresh.exitCode).toBe(1);

  const later = new Date(Date.now() + 2 * 3_600_000).toISOString();
  const stale = await runFleet(config, ['status', '--json', '--now', later]);
  expect(stale.json.rows.find((row: { peer: string }) => row.peer === 'backup1')).toMatchObject({ state: 'STALE', rpoState: 'STALE' });
  const text = await runFleet(config, ['status', '--now', later]);
  expect(text.stdout).toMatch(/STALE\s+src1\s+\S+\s+backup1/);
  expect(text.stdout).toMatch(/FAILING\s+src1\s+\S+\s+backup9.*SSH_CONNECT_FAILED/);

  const families = parsePrometheusTextFormat(await readFile(path.join(await stateDirOf(config), 'zfs-fleet.prom'), 'utf8')) as Array<{ name: string; metrics: Array<{ value: string; labels: Record<string, string> }> }>;
  const series = (name: string, peer: string) => families.find((f) => f.name === name)?.metrics.find((m) => m.labels.peer === peer);
  expect(Number(series('zfs_fleet_last_success_timestamp_seconds', 'backup1')?.value)).toBeGreaterThan(Date.now() / 1000 - 600);
  expect(series('zfs_fleet_last_success_timestamp_seconds', 'backup9')).toBeUndefined();
  expect(series('zfs_fleet_failures_total', 'backup9')?.value).toBe('1');
  expect(series('zfs_fleet_last_run_success', 'backup1')?.value).toBe('1');
  expect(Number(series('zfs_fleet_last_run_bytes', 'backup1')?.value)).toBeGreaterThan(0);
  expect(series('zfs_fleet_rpo_seconds', 'backup1')?.value).toBe('3600');
});
