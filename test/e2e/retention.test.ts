import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { cleanUpPeer, createDatasets, journalOf, lab, runFleet, snapshotGuids, uniqueName, writeFleetConfig } from './support/fleet.ts';

/** Every snapshot of a tree, as `zfs list` prints it: what "changes nothing" is compared on. */
const listSnapshots = (host: string, dataset: string) =>
  lab()
    .zfs(host, ['list', '-H', '-t', 'snapshot', '-r', '-o', 'name', dataset])
    .catch(() => '');
/** The journal's prune records (`kind: prune`), as an operator would read them with jq. */
const pruneRecords = async (config: string) => (await journalOf(config)).filter((record) => record.kind === 'prune');
const day = (n: number) => `2030-03-${String(n).padStart(2, '0')}T12:00:00Z`;

test('fleet prune leaves exactly keep: on the source and peerKeep: on the peer; foreign and held snapshots stay; the next backup is incremental; --dry-run changes nothing', async () => {
  const dataset = `tank/${uniqueName('Keep')}`;
  const copy = `backup/fleet/src1/${dataset}`;
  await createDatasets('src1', [dataset]);
  cleanUpPeer('backup1', copy);
  const config = await writeFleetConfig({
    src1: [{ dataset, to: ['backup1'], schedule: '0 * * * *', sequence: ['lock', 'snapshot', 'replicate', 'unlock'], keep: { daily: 2 }, peerKeep: { daily: 4 } } as never],
  });
  // Seven daily runs on an injected clock (it ticks on: names carry the day, not .000Z); a snapshot of another tool's between days 2 and 3.
  const taken: string[] = [];
  const nameAt = (iso: string) => taken[Number(iso.slice(8, 10)) - 1]!;
  for (let n = 1; n <= 7; n += 1) {
    const run = await runFleet(config, ['run', '--due', '--json'], { FLEET_NOW: day(n) });
    expect(run.exitCode, run.stderr).toBe(0);
    taken.push(run.json.hosts.find((h: { host: string }) => h.host === 'src1').snapshot);
    if (n === 2) await lab().zfs('src1', ['snapshot', `${dataset}@manual-before-upgrade`]);
  }
  expect(taken[0]).toMatch(/^fleet-20300301T12/);
  const held = `${dataset}@${nameAt(day(1))}`;
  await lab().zfs('src1', ['hold', 'e2e-test', held]);
  onTestFinished(
    async () =>
      void (await lab()
        .zfs('src1', ['release', 'e2e-test', held])
        .catch(() => undefined)),
  );
  expect((await snapshotGuids('src1', dataset)).size).toBe(8);
  expect((await snapshotGuids('backup1', copy)).size).toBe(8);

  // The dry run: every snapshot with the rule that drops or keeps it, and nothing touched.
  const before = [await listSnapshots('src1', dataset), await listSnapshots('backup1', copy)];
  const dry = await runFleet(config, ['prune', '--all', '--dry-run', '--json', '--now', '2030-03-07T13:00:00Z']);
  expect(dry.exitCode, dry.stderr).toBe(0);
  expect([await listSnapshots('src1', dataset), await listSnapshots('backup1', copy)]).toEqual(before);
  const verdicts = (on: string) => new Map<string, { action: string; reasons: string[] }>(dry.json.units.find((u: { on: string }) => u.on === on).datasets[0].snapshots.map((s: { name: string }) => [s.name, s]));
  const source = verdicts('src1');
  expect(source.get(nameAt(day(1)))).toMatchObject({ action: 'keep', reasons: [expect.stringMatching(/^held/)] });
  expect(source.get('manual-before-upgrade')).toMatchObject({ action: 'keep', reasons: [expect.stringMatching(/^foreign/)] });
  expect(source.get(nameAt(day(3)))).toEqual({ name: nameAt(day(3)), action: 'destroy', reasons: ['beyond daily 2'] });
  expect(source.get(nameAt(day(7)))!.reasons).toEqual(expect.arrayContaining(['incremental base for backup1', 'newest', 'daily 2030-03-07']));
  const text = await runFleet(config, ['prune', '--all', '--dry-run', '--now', '2030-03-07T13:00:00Z']);
  expect(text.stdout).toMatch(new RegExp(`src1 ${dataset}@${nameAt(day(3))}\\s+destroy\\s+beyond daily 2`));
  expect(text.stdout).toContain('Dry run: nothing was destroyed.');

  expect(await pruneRecords(config)).toEqual([]);

  const pruned = await runFleet(config, ['prune', '--all', '--json', '--now', '2030-03-07T13:00:00Z']);
  expect(pruned.exitCode, pruned.stderr).toBe(0);
  expect([...(await snapshotGuids('src1', dataset)).keys()].sort()).toEqual([nameAt(day(1)), nameAt(day(6)), nameAt(day(7)), 'manual-before-upgrade'].sort());
  expect([...(await snapshotGuids('backup1', copy)).keys()].sort()).toEqual([nameAt(day(4)), nameAt(day(5)), nameAt(day(6)), nameAt(day(7)), 'manual-before-upgrade'].sort());
  expect(pruned.json.units.map((u: { on: string; destroyed: number }) => [u.on, u.destroyed]).sort()).toEqual([
    ['backup1', 3],
    ['src1', 4],
  ]);
  // On record: each side's prune with every snapshot it destroyed.
  const records = await pruneRecords(config);
  expect(records.map((record) => [record.command, record.on, record.status, [...record.destroyed].sort()]).sort()).toEqual([
    ['prune', 'backup1', 'ok', [1, 2, 3].map((n) => `${copy}@${nameAt(day(n))}`).sort()],
    ['prune', 'src1', 'ok', [2, 3, 4, 5].map((n) => `${dataset}@${nameAt(day(n))}`).sort()],
  ]);

  // The base survived on both sides, so the next backup is an incremental from it.
  const next = await runFleet(config, ['run', '--due', '--json'], { FLEET_NOW: day(8) });
  expect(next.exitCode, next.stderr).toBe(0);
  expect(next.json.units[0].steps[0]).toMatchObject({ action: 'incremental', from: nameAt(day(7)), to: expect.stringMatching(/^fleet-20300308T12/) });
  // A held snapshot cannot be destroyed by the clean-up either.
  await lab().zfs('src1', ['release', 'e2e-test', held]);
});

/**
 * A `zfs` wrapper first on the agent's PATH counts the zfs calls of a host from outside the
 * agent. /tmp is shared between the lab's hosts and this process.
 */
async function countingAgentCommand(): Promise<{ command: string; log: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-zfs-count-'));
  const real = (await lab().exec('src1', ['sh', '-c', 'command -v zfs'])).stdout.trim();
  const log = path.join(dir, 'calls.log');
  await writeFile(path.join(dir, 'zfs'), `#!/bin/sh\necho "$(hostname) $1" >> ${log}\nexec ${real} "$@"\n`);
  await chmod(path.join(dir, 'zfs'), 0o755);
  const base = lab().config().agent.command;
  return { command: `env PATH=${dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ${base}`, log };
}

test('pruning 200 snapshots costs the same zfs calls per host as pruning 2, apart from what zfs-fuse cannot batch', async () => {
  const callsToPrune = async (count: number) => {
    const dataset = `tank/${uniqueName('Count')}`;
    await createDatasets('src1', [dataset]);
    // 2 or 200 old snapshots in one go (zfs-fuse takes one name per call), and a new one.
    await lab().exec('src1', ['sh', '-c', `for i in $(seq 1 ${count}); do zfs snapshot "$1@$(printf 'fleet-20290101T%02d%02d00.000Z' $((i / 60)) $((i % 60)))"; done; zfs snapshot "$1@fleet-20300301T000000.000Z"`, 'sh', dataset]);
    const counting = await countingAgentCommand();
    const config = await writeFleetConfig({ src1: [{ dataset, to: ['backup1'], keep: { daily: 1 } } as never] }, { top: { agent: { command: counting.command } } });
    cleanUpPeer('backup1', `backup/fleet/src1/${dataset}`);
    const run = await runFleet(config, ['prune', 'src1', '--json', '--now', '2030-03-01T12:00:00Z']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json.units.find((u: { on: string }) => u.on === 'src1')).toMatchObject({ status: 'ok', destroyed: count });
    expect((await snapshotGuids('src1', dataset)).size).toBe(1);
    const verbs = (await readFile(counting.log, 'utf8'))
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('src1 '))
      .map((line) => line.slice('src1 '.length));
    return { total: verbs.length, other: verbs.filter((verb) => verb !== 'destroy').length, destroys: verbs.filter((verb) => verb === 'destroy').length };
  };
  const two = await callsToPrune(2);
  const many = await callsToPrune(200);
  // Listing, probing and guarding: the same number of calls whatever the count.
  expect(many.other).toBe(two.other);
  // zfs-fuse has no `zfs destroy ds@a,b,c`: there the destroys are one per snapshot; on OpenZFS one per dataset.
  const fuse = (await lab().exec('src1', ['sh', '-c', 'zfs version >/dev/null 2>&1 || echo fuse'])).stdout.trim() === 'fuse';
  expect([two.destroys, many.destroys]).toEqual(fuse ? [2, 200] : [1, 1]);
}, 300_000);
