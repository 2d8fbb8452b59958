import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { ADDRESSES, cleanUpPeer, createDatasets, hashFile, lab, runFleet, snapshotGuids, uniqueName, writeFleetConfig, writeRandomFile, type FleetRun } from './support/fleet.ts';

interface Step {
  dataset: string;
  action: string;
  from?: string;
  to?: string;
  bytes?: number;
  durationMs?: number;
  code?: string;
  reason?: string;
  warnings?: string[];
  destroys?: string[];
}

const stepsOf = (run: FleetRun, peer = 'backup1'): Step[] => run.json.units.find((unit: { peer: string }) => unit.peer === peer).steps;
const snapshotOf = (run: FleetRun, host = 'src1'): string => run.json.hosts.find((h: { host: string }) => h.host === host).snapshot;

/** One dataset on src1 backed up to backup1, cleaned up after the test. */
async function singleDataset(options: { recursive?: boolean; to?: string[] } = {}) {
  const dataset = `tank/${uniqueName('R')}`;
  await createDatasets('src1', [dataset]);
  const to = options.to ?? ['backup1'];
  for (const peer of to) cleanUpPeer(peer, `backup/fleet/src1/${dataset}`);
  const config = await writeFleetConfig({ src1: [{ dataset, recursive: options.recursive ?? false, to }] });
  return { dataset, copy: `backup/fleet/src1/${dataset}`, config };
}

async function backup(config: string, ...flags: string[]): Promise<FleetRun> {
  return runFleet(config, ['backup', 'src1', '--json', ...flags]);
}

test('full, then incremental, then only the new (empty) snapshot; --no-snapshot is then up to date', async () => {
  const { dataset, copy, config } = await singleDataset();
  await writeRandomFile('src1', dataset, 'a.bin', 500_000);
  const first = await backup(config);
  expect(first.exitCode, first.stderr).toBe(0);
  expect(stepsOf(first)).toMatchObject([{ action: 'full', to: snapshotOf(first) }]);

  await writeRandomFile('src1', dataset, 'b.bin', 300_000);
  const second = await backup(config);
  expect(stepsOf(second)).toMatchObject([{ action: 'incremental', from: snapshotOf(first), to: snapshotOf(second) }]);
  expect(stepsOf(second)[0]!.bytes).toBeGreaterThan(300_000);

  const third = await backup(config);
  expect(stepsOf(third)).toMatchObject([{ action: 'incremental', from: snapshotOf(second), to: snapshotOf(third) }]);
  expect(stepsOf(third)[0]!.bytes).toBeLessThan(100_000);

  const fourth = await backup(config, '--no-snapshot');
  expect(fourth.exitCode).toBe(0);
  expect(stepsOf(fourth)).toMatchObject([{ action: 'up-to-date', to: snapshotOf(third) }]);
  expect(await snapshotGuids('backup1', copy)).toEqual(await snapshotGuids('src1', dataset));
  expect(await hashFile('backup1', copy, 'b.bin')).toBe(await hashFile('src1', dataset, 'b.bin'));
});

test('a snapshot with the same name but another guid on the peer is not a base; it is reported, and --force replaces it', async () => {
  const { dataset, copy, config } = await singleDataset();
  expect((await backup(config)).exitCode).toBe(0);
  await lab().zfs('backup1', ['snapshot', `${copy}@manual`]);
  await writeRandomFile('src1', dataset, 'c.bin', 100_000);
  await lab().zfs('src1', ['snapshot', `${dataset}@manual`]);

  const blocked = await backup(config, '--no-snapshot');
  expect(blocked.exitCode).toBe(1);
  const [step] = stepsOf(blocked);
  expect(step).toMatchObject({ action: 'blocked', code: 'DESTINATION_AHEAD' });
  expect(step!.warnings).toContain('@manual exists on both sides with different guids (different data); it is not used as a base.');

  const forced = await backup(config, '--no-snapshot', '--force');
  expect(forced.exitCode, forced.stderr).toBe(0);
  expect(stepsOf(forced)).toMatchObject([{ action: 'incremental', to: 'manual', destroys: ['manual'] }]);
  expect((await snapshotGuids('backup1', copy)).get('manual')).toBe((await snapshotGuids('src1', dataset)).get('manual'));
});

test('a destination that holds data and shares no snapshot is blocked, naming what --force destroys; --force replicates', async () => {
  const { dataset, copy, config } = await singleDataset();
  await writeRandomFile('src1', dataset, 'real.bin', 200_000);
  await lab().zfs('backup1', ['create', '-p', copy]);
  await lab().exec('backup1', ['sh', '-c', 'head -c 300000 /dev/urandom > "$(zfs get -H -o value mountpoint "$1")/stranger.bin"', 'sh', copy]);
  await lab().zfs('backup1', ['snapshot', `${copy}@theirs`]);

  const blocked = await backup(config);
  expect(blocked.exitCode).toBe(1);
  const [step] = stepsOf(blocked);
  expect(step).toMatchObject({ action: 'blocked', code: 'NO_COMMON_SNAPSHOT' });
  expect(step!.reason).toContain(`"${copy}" exists with 1 snapshot(s)`);
  expect(step!.reason).toContain('--force would destroy its snapshots @theirs');
  expect([...(await snapshotGuids('backup1', copy)).keys()]).toEqual(['theirs']);

  const forced = await backup(config, '--force');
  expect(forced.exitCode, forced.stderr).toBe(0);
  expect(stepsOf(forced)).toMatchObject([{ action: 'full', destroys: ['theirs'] }]);
  // The source's whole history replaces the peer's own, which is gone, as the plan said.
  expect(await snapshotGuids('backup1', copy)).toEqual(await snapshotGuids('src1', dataset));
  expect(await hashFile('backup1', copy, 'real.bin')).toBe(await hashFile('src1', dataset, 'real.bin'));
});

test('a destination ahead of the base is blocked, listing its newer snapshots; --force rolls back and replicates', async () => {
  const { dataset, copy, config } = await singleDataset();
  const first = await backup(config);
  expect(first.exitCode).toBe(0);
  await lab().zfs('backup1', ['snapshot', `${copy}@local-1`]);
  await lab().zfs('backup1', ['snapshot', `${copy}@local-2`]);

  const blocked = await backup(config);
  expect(blocked.exitCode).toBe(1);
  const [step] = stepsOf(blocked);
  expect(step).toMatchObject({ action: 'blocked', code: 'DESTINATION_AHEAD' });
  expect(step!.reason).toContain('@local-1, @local-2');

  const forced = await backup(config, '--force');
  expect(forced.exitCode, forced.stderr).toBe(0);
  expect(stepsOf(forced)).toMatchObject([{ action: 'incremental', destroys: ['local-1', 'local-2'] }]);
  const peerSnapshots = await snapshotGuids('backup1', copy);
  expect(peerSnapshots.has('local-1')).toBe(false);
  expect(peerSnapshots).toEqual(await snapshotGuids('src1', dataset));
});

test('--snapshot sends up to an older snapshot and takes none; --force-full is guarded; --no-snapshot sends what exists', async () => {
  const { dataset, copy, config } = await singleDataset();
  for (const name of ['s1', 's2', 's3']) await lab().zfs('src1', ['snapshot', `${dataset}@${name}`]);

  const older = await backup(config, '--snapshot', 's2');
  expect(older.exitCode, older.stderr).toBe(0);
  expect(stepsOf(older)).toMatchObject([{ action: 'full', from: 's1', to: 's2' }]);
  expect([...(await snapshotGuids('src1', dataset)).keys()]).toEqual(['s1', 's2', 's3']);
  // History up to the chosen snapshot, nothing after it.
  expect([...(await snapshotGuids('backup1', copy)).keys()]).toEqual(['s1', 's2']);

  const fullBlocked = await backup(config, '--snapshot', 's3', '--force-full');
  expect(fullBlocked.exitCode).toBe(1);
  expect(stepsOf(fullBlocked)).toMatchObject([{ action: 'blocked', code: 'DESTINATION_NOT_EMPTY' }]);
  const full = await backup(config, '--snapshot', 's3', '--force-full', '--force');
  expect(full.exitCode, full.stderr).toBe(0);
  // A forced full replaces the copy with the source's history up to the chosen snapshot.
  expect(stepsOf(full)).toMatchObject([{ action: 'full', from: 's1', to: 's3', destroys: ['s1', 's2'] }]);
  expect(await snapshotGuids('backup1', copy)).toEqual(await snapshotGuids('src1', dataset));

  await lab().zfs('src1', ['snapshot', `${dataset}@s4`]);
  const existing = await backup(config, '--no-snapshot');
  expect(stepsOf(existing)).toMatchObject([{ action: 'incremental', from: 's3', to: 's4' }]);
  expect([...(await snapshotGuids('src1', dataset)).keys()]).toEqual(['s1', 's2', 's3', 's4']);
});

test('a recursive tree: a child added later gets a full stream, an excluded child stays home, a child whose base vanished is blocked alone', async () => {
  const root = `tank/${uniqueName('T')}`;
  await createDatasets('src1', [root, `${root}/keep`, `${root}/scratch`, `${root}/lost`]);
  cleanUpPeer('backup1', `backup/fleet/src1/${root}`);
  const copy = `backup/fleet/src1/${root}`;
  const config = await writeFleetConfig({ src1: [{ dataset: root, recursive: true, to: ['backup1'], exclude: ['scratch'] }] });

  const first = await backup(config);
  expect(first.exitCode, first.stderr).toBe(0);
  expect(stepsOf(first).map((s) => [s.dataset, s.action])).toEqual([
    [root, 'full'],
    [`${root}/keep`, 'full'],
    [`${root}/lost`, 'full'],
  ]);
  expect((await lab().exec('backup1', ['zfs', 'list', `${copy}/scratch`], { reject: false })).exitCode).not.toBe(0);

  await lab().zfs('src1', ['create', `${root}/added`]);
  await lab().zfs('src1', ['destroy', `${root}/lost@${snapshotOf(first)}`]);
  const second = await backup(config);
  expect(second.exitCode).toBe(1);
  const steps = stepsOf(second);
  expect(steps.map((s) => [s.dataset, s.action])).toEqual([
    [root, 'incremental'],
    [`${root}/added`, 'full'],
    [`${root}/keep`, 'incremental'],
    [`${root}/lost`, 'blocked'],
  ]);
  expect(steps[3]).toMatchObject({ code: 'NO_COMMON_SNAPSHOT' });
  expect(await snapshotGuids('backup1', `${copy}/added`)).toEqual(await snapshotGuids('src1', `${root}/added`));
  expect(await snapshotGuids('backup1', `${copy}/keep`)).toEqual(await snapshotGuids('src1', `${root}/keep`));
});

test('two peers, one unreachable: the other completes, the exit code is non-zero, the summary names the failed peer and why', async () => {
  const dataset = `tank/${uniqueName('P')}`;
  await createDatasets('src1', [dataset]);
  cleanUpPeer('backup2', `backup/fleet/src1/${dataset}`);
  const config = await writeFleetConfig({ src1: [{ dataset, to: ['backup2', 'backup9'] }] }, { extraHosts: { backup9: { address: '10.77.0.29', receive: { root: 'backup/fleet' } } }, ssh: { connectTimeoutMs: 3000 } });
  const json = await runFleet(config, ['backup', 'src1', '--json']);
  expect(json.exitCode).toBe(1);
  const units = json.json.units as Array<{ peer: string; status: string; error?: { code: string } }>;
  expect(units.find((u) => u.peer === 'backup2')!.status).toBe('ok');
  expect(units.find((u) => u.peer === 'backup9')).toMatchObject({ status: 'failed', error: { code: 'SSH_CONNECT_FAILED' } });
  expect(await snapshotGuids('backup2', `backup/fleet/src1/${dataset}`)).toEqual(await snapshotGuids('src1', dataset));

  const text = await runFleet(config, ['backup', 'src1']);
  expect(text.exitCode).toBe(1);
  expect(text.stdout).toMatch(/FAILED\s+src1\s+\S+\s+→ backup9/);
  expect(text.stdout).toContain('backup9: SSH_CONNECT_FAILED');
});

test('the zfs call count of a host does not grow with its number of datasets (50 vs 1), counted on the host itself', async () => {
  const one = `tank/${uniqueName('One')}`;
  const many = `tank/${uniqueName('Many')}`;
  await createDatasets('src1', [one]);
  const children = Array.from({ length: 49 }, (_, i) => `${many}/child${i}`);
  await createDatasets('src1', [many, ...children]);
  cleanUpPeer('backup1', `backup/fleet/src1/${one}`);
  cleanUpPeer('backup1', `backup/fleet/src1/${many}`);
  // src1's agent runs with a counting zfs first on its PATH: the count does not trust the agent.
  const counter = await countZfsCalls('src1');
  const callsFor = async (dataset: string) => {
    const config = await writeFleetConfig({}, { extraHosts: { src1: { address: ADDRESSES.src1, agent: { command: counter.agentCommand }, backups: [{ dataset, recursive: true, to: ['backup1'] }] } } });
    const counts: number[] = [];
    for (let run = 0; run < 2; run += 1) {
      await counter.reset();
      const result = await backup(config);
      expect(result.exitCode, result.stderr).toBe(0);
      const counted = await counter.count();
      expect(result.json.hosts.find((h: { host: string }) => h.host === 'src1').zfsCalls.total).toBe(counted);
      counts.push(counted);
    }
    return counts;
  };
  const manyCalls = await callsFor(many);
  expect(await snapshotGuids('backup1', `backup/fleet/src1/${children[48]}`)).toEqual(await snapshotGuids('src1', children[48]!));
  expect(manyCalls).toEqual(await callsFor(one));
  expect(manyCalls[0]).toBeGreaterThan(0);
});

/**
 * A `zfs` wrapper that logs each call before running the real one, and an agent command that
 * puts it first on the agent's PATH (as the benchmark counts calls).
 */
async function countZfsCalls(host: string): Promise<{ agentCommand: string; reset(): Promise<void>; count(): Promise<number> }> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'zfs-count-'));
  const log = path.join(directory, 'calls.log');
  const realZfs = (await lab().exec(host, ['sh', '-c', 'command -v zfs'])).stdout.trim();
  await writeFile(path.join(directory, 'zfs'), `#!/bin/sh\nprintf '%s\\n' "$1" >> ${log}\nexec ${realZfs} "$@"\n`, { mode: 0o755 });
  onTestFinished(() => rm(directory, { recursive: true, force: true }));
  return {
    // sshd's default PATH for a session, behind the wrapper.
    agentCommand: `env PATH=${directory}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ${lab().config().agent.command}`,
    reset: () => writeFile(log, ''),
    count: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).length,
  };
}

test('after the source prunes old snapshots, the next run keeps them on the peer', async () => {
  const { dataset, copy, config } = await singleDataset({ recursive: true });
  const first = await backup(config);
  const second = await backup(config);
  expect(second.exitCode).toBe(0);
  await lab().zfs('src1', ['destroy', `${dataset}@${snapshotOf(first)}`]);
  const third = await backup(config);
  expect(third.exitCode, third.stderr).toBe(0);
  const kept = [...(await snapshotGuids('backup1', copy)).keys()];
  expect(kept).toEqual([snapshotOf(first), snapshotOf(second), snapshotOf(third)]);
});

describe('fleet plan', () => {
  test('changes nothing on any host, and says what a backup would do', async () => {
    const { config } = await singleDataset();
    const snapshotsEverywhere = async () => Promise.all(['src1', 'src2', 'backup1', 'backup2'].map((host) => lab().zfs(host, ['get', '-H', '-p', '-r', '-o', 'name,value', 'guid'])));
    const before = await snapshotsEverywhere();
    const plan = await runFleet(config, ['plan', 'src1', '--json']);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.json.command).toBe('plan');
    expect(stepsOf(plan)).toMatchObject([{ action: 'full' }]);
    const dryRun = await runFleet(config, ['backup', 'src1', '--dry-run', '--json']);
    expect(stepsOf(dryRun)).toMatchObject([{ action: 'full' }]);
    expect(await snapshotsEverywhere()).toEqual(before);
  });
});

test('the wire: zstd on both ends, an mbuffer stage and a bandwidth limit still deliver identical data', async () => {
  const dataset = `tank/${uniqueName('W')}`;
  await createDatasets('src1', [dataset]);
  const copy = `backup/fleet/src1/${dataset}`;
  cleanUpPeer('backup1', copy);
  await writeRandomFile('src1', dataset, 'w.bin', 2_000_000);
  const base = await writeFleetConfig({ src1: [{ dataset, to: ['backup1'] }] });
  const { readFile, writeFile } = await import('node:fs/promises');
  const { parse, stringify } = await import('yaml');
  const config = parse(await readFile(base, 'utf8'));
  config.wire = { compression: 'zstd', buffer: '16M', bandwidthLimitBytesPerSecond: 1_000_000, cipher: 'aes128-gcm@openssh.com' };
  await writeFile(base, stringify(config));

  const result = await backup(base, '--log-level', 'info');
  expect(result.exitCode, result.stderr).toBe(0);
  // Without a TTY, progress arrives as structured log lines on stderr.
  const progress = result.stderr
    .split('\n')
    .filter((line) => line.includes('"msg":"transfer progress"'))
    .map((line) => JSON.parse(line));
  expect(progress.length).toBeGreaterThan(0);
  // A full stream is sized from what the dataset references, so there is an ETA even on zfs-fuse.
  expect(progress[0]).toMatchObject({ host: 'src1', peer: 'backup1', bytes: expect.any(Number), bytesPerSecond: expect.any(Number), estimatedBytes: expect.any(Number), etaSeconds: expect.any(Number) });
  // Paced at 1 MB/s, the 2 MB stream takes at least 2 s (unpaced it takes a fraction of that).
  const [step] = stepsOf(result);
  expect(step!.bytes).toBeGreaterThan(2_000_000);
  expect(step!.durationMs).toBeGreaterThan(1_900);
  expect(await hashFile('backup1', copy, 'w.bin')).toBe(await hashFile('src1', dataset, 'w.bin'));
});
