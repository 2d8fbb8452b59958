import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { parse, stringify } from 'yaml';
import { agentWithZfs, commandLineOf, isStopped, pidsOn, signalOn, sshdCarryingTheStream, waitUntil } from './support/faults.ts';
import { ADDRESSES, cleanUpPeer, createDatasets, destroyTree, type FleetRun, hashFile, lab, runFleet, snapshotGuids, startFleet, uniqueName, writeFleetConfig, writeRandomFile } from './support/fleet.ts';

/*
 * Faults at every phase (issue #14): each test injects one, then checks what it left on every
 * host and that the next run recovers. docs/reliability.md has one row per test.
 * Data is small and streams are paced, so "mid-stream" is a moment the test can wait for.
 */

const stateDirOf = (config: string) => path.join(path.dirname(config), 'state');
const PACED_BYTES_PER_SECOND = 1_000_000;

/** A config for one entry of src1 to backup1, its stream paced so a test can catch it mid-way. */
async function entryConfig(dataset: string, options: { wire?: Record<string, unknown>; entry?: Record<string, unknown>; extraHosts?: Record<string, unknown>; ssh?: Record<string, unknown>; backups?: Record<string, unknown[]> } = {}): Promise<string> {
  const file = await writeFleetConfig({ src1: [{ dataset, to: ['backup1'], ...options.entry } as never], ...(options.backups ?? {}) }, { ...(options.extraHosts ? { extraHosts: options.extraHosts } : {}), ...(options.ssh ? { ssh: options.ssh } : {}) });
  const config = parse(await readFile(file, 'utf8'));
  config.wire = { compression: 'none', bandwidthLimitBytesPerSecond: PACED_BYTES_PER_SECOND, ...options.wire };
  await writeFile(file, stringify(config));
  return file;
}

/** Names → guids of both sides, before a fault. */
interface Sides {
  source: Map<string, string>;
  peer: Map<string, string>;
}

async function sidesOf(dataset: string, copy: string): Promise<Sides> {
  return { source: await snapshotGuids('src1', dataset), peer: await snapshotGuids('backup1', copy) };
}

/**
 * What every fault must leave: each source snapshot there with its guid, the peer's last good
 * snapshots intact, nothing on the peer that is not the source's (no half-received snapshot,
 * no partial-receive clone), the state lock gone or held by a dead pid, and a journal whose
 * every line but a torn last one is a record.
 */
async function expectNothingLost(dataset: string, copy: string, before: Sides, config: string): Promise<void> {
  const source = await snapshotGuids('src1', dataset);
  for (const [name, guid] of before.source) expect(source.get(name), `source @${name}`).toBe(guid);
  const peer = await snapshotGuids('backup1', copy);
  for (const [name, guid] of before.peer) expect(peer.get(name), `peer @${name}`).toBe(guid);
  for (const [name, guid] of peer) expect(source.get(name), `peer @${name} is the source's`).toBe(guid);
  const onPeer = await lab().exec('backup1', ['zfs', 'list', '-H', '-r', '-t', 'all', '-o', 'name', path.dirname(copy)]);
  expect(onPeer.stdout).not.toMatch(/%/);
  const lock = path.join(stateDirOf(config), 'lock');
  if (existsSync(lock)) {
    const holder = JSON.parse(await readFile(lock, 'utf8')) as { pid: number };
    expect(() => process.kill(holder.pid, 0), `the lock's pid ${holder.pid} is gone`).toThrow();
  }
  await journalLines(config);
}

/**
 * The journal's records, and its torn lines: lines a killed run left half-written, each the
 * prefix of a record (the next run starts a line of its own after one). Anything else throws.
 */
async function journalLines(config: string): Promise<{ records: Array<{ status: string; snapshot?: string; error?: { code: string } }>; torn: string[] }> {
  const text = await readFile(path.join(stateDirOf(config), 'journal.jsonl'), 'utf8').catch(() => '');
  const records = [];
  const torn: string[] = [];
  for (const [index, line] of text.split('\n').filter(Boolean).entries()) {
    try {
      records.push(JSON.parse(line));
    } catch (error) {
      if (!line.startsWith('{"')) throw new Error(`journal line ${index + 1} is neither a record nor a torn one: ${line}`, { cause: error });
      torn.push(line);
    }
  }
  return { records, torn };
}

/**
 * The next run: an incremental from the peer's newest snapshot (the last common base: zfs-fuse
 * keeps no resume tokens), after which both sides hold the same snapshots and bytes.
 */
async function expectNextRunRecovers(dataset: string, copy: string, config: string): Promise<FleetRun> {
  const base = [...(await snapshotGuids('backup1', copy)).keys()].at(-1);
  const next = await runFleet(config, ['backup', 'src1', '--json']);
  expect(next.exitCode, next.stderr).toBe(0);
  expect(next.json.units[0]).toMatchObject({ status: 'ok', steps: [{ action: 'incremental', from: base }] });
  expect(await snapshotGuids('backup1', copy)).toEqual(await snapshotGuids('src1', dataset));
  expect(await hashFile('backup1', copy, 'stream.bin')).toBe(await hashFile('src1', dataset, 'stream.bin'));
  return next;
}

/** Waits for the paced stream to be flowing into backup1's zfs recv, half a second in. */
async function waitForStream(host = 'backup1'): Promise<void> {
  await waitUntil(`a zfs recv on ${host}`, async () => (await pidsOn(host, 'zfs rec[v]')).length > 0);
  await new Promise((resolve) => setTimeout(resolve, 500));
}

describe.sequential('SIGKILL at every phase: nothing is lost and the next run recovers', () => {
  // One dataset for the whole block: each test's recovery run is the next test's last good state.
  const dataset = `tank/${uniqueName('Kill')}`;
  const copy = `backup/fleet/src1/${dataset}`;
  let config: string;

  beforeAll(async () => {
    await lab().zfs('src1', ['create', '-p', dataset]);
    config = await entryConfig(dataset);
    const first = await runFleet(config, ['backup', 'src1', '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
  });
  afterAll(async () => {
    await destroyTree('backup1', copy);
    await destroyTree('src1', dataset);
  });

  /** New data for this test's stream: 2 MB, two seconds at the paced rate. */
  const newData = () => writeRandomFile('src1', dataset, 'stream.bin', 2_000_000);

  test.each([
    ['snapshot', 'while the agent takes the snapshot'],
    ['listing', 'while the hosts list their trees'],
  ])('the controller killed during %s (%s)', async (point) => {
    await newData();
    const before = await sidesOf(dataset, copy);
    const killed = await runFleet(config, ['backup', 'src1'], { FLEET_FAULT_AT: `${point}:kill` });
    expect(killed.signal).toBe('SIGKILL');
    await expectNothingLost(dataset, copy, before, config);
    const next = await expectNextRunRecovers(dataset, copy, config);
    // It says what it found: the dead run's lock.
    expect(next.stderr).toMatch(/took over the lock of pid \d+ .*fleet backup.* which is gone/);
  });

  test('the controller killed mid-stream', async () => {
    await newData();
    const before = await sidesOf(dataset, copy);
    const run = startFleet(config, ['backup', 'src1']);
    await waitForStream();
    process.kill(run.pid, 'SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    // The agents see the controller hang up and stop the stream: no send outlives it, and with
    // over a second of it left, the peer did not get the snapshot.
    await waitUntil('the stream on src1 to stop', async () => (await pidsOn('src1', 'zfs sen[d]')).length === 0, 15_000);
    await waitUntil('the receive on backup1 to end', async () => (await pidsOn('backup1', 'zfs rec[v]')).length === 0, 15_000);
    expect(await snapshotGuids('backup1', copy)).toEqual(before.peer);
    await expectNothingLost(dataset, copy, before, config);
    expect((await expectNextRunRecovers(dataset, copy, config)).stderr).toMatch(/took over the lock of pid/);
  });

  test('the controller killed while writing the journal leaves a torn line that is skipped', async () => {
    await newData();
    const before = await sidesOf(dataset, copy);
    const { records: earlier } = await journalLines(config);
    const killed = await runFleet(config, ['backup', 'src1'], { FLEET_FAULT_AT: 'journal:kill' });
    expect(killed.signal).toBe('SIGKILL');
    const { records, torn } = await journalLines(config);
    expect(torn).toHaveLength(1);
    expect(await readFile(path.join(stateDirOf(config), 'journal.jsonl'), 'utf8')).toMatch(/[^\n]$/);
    expect(records).toHaveLength(earlier.length);
    await expectNothingLost(dataset, copy, before, config);
    // The stream had finished: the status reads the journal past the torn line.
    const status = await runFleet(config, ['status', '--json']);
    expect(status.json.rows[0]).toMatchObject({ host: 'src1', dataset, peer: 'backup1', state: 'OK' });
    const next = await expectNextRunRecovers(dataset, copy, config);
    expect(next.stderr).toContain('the journal ended in a torn line');
    const after = await journalLines(config);
    // The torn line stays where it was, skipped; the new record is on a line of its own after it.
    expect(after.torn).toEqual(torn);
    expect(after.records).toHaveLength(records.length + 1);
    expect(after.records.at(-1)).toMatchObject({ status: 'ok', snapshot: next.json.units[0].steps[0].to });
  });

  test('the source agent killed mid-send', async () => {
    await newData();
    const before = await sidesOf(dataset, copy);
    const run = startFleet(config, ['backup', 'src1', '--json']);
    await waitForStream();
    expect(await signalOn('src1', 'fleet-agent.m[j]s serve', 'KILL')).toBe(1);
    const failed = await run.done;
    expect(failed.exitCode).toBe(1);
    expect(failed.json.units[0]).toMatchObject({ status: 'failed', error: { code: expect.stringMatching(/^(SSH_CHANNEL_CLOSED|STREAM_FAILED)$/) } });
    // Its zfs send, pv and ssh die with it (setpriv --pdeathsig): no orphan finishes the stream
    // on its own, and with over a second of it left the peer did not get the snapshot.
    await waitUntil('the stream to die with the agent', async () => (await pidsOn('src1', 'zfs sen[d]')).length === 0, 5_000);
    await waitUntil('the receive on backup1 to end', async () => (await pidsOn('backup1', 'zfs rec[v]')).length === 0, 15_000);
    expect(await snapshotGuids('backup1', copy)).toEqual(before.peer);
    await expectNothingLost(dataset, copy, before, config);
    await expectNextRunRecovers(dataset, copy, config);
  });

  test("the peer's agent and its zfs recv killed mid-stream", async () => {
    await newData();
    const before = await sidesOf(dataset, copy);
    const run = startFleet(config, ['backup', 'src1', '--json']);
    await waitForStream();
    expect(await signalOn('backup1', 'fleet-agent.m[j]s serve', 'KILL')).toBe(1);
    expect(await signalOn('backup1', 'zfs rec[v]', 'KILL')).toBeGreaterThan(0);
    const failed = await run.done;
    expect(failed.exitCode).toBe(1);
    expect(failed.json.units[0]).toMatchObject({ status: 'failed', error: { code: expect.stringMatching(/^(SSH_CHANNEL_CLOSED|STREAM_FAILED)$/) } });
    await expectNothingLost(dataset, copy, before, config);
    await expectNextRunRecovers(dataset, copy, config);
  });

  test('the sshd child carrying the stream killed', async () => {
    await newData();
    const before = await sidesOf(dataset, copy);
    const run = startFleet(config, ['backup', 'src1', '--json']);
    await waitForStream();
    const pid = await sshdCarryingTheStream('backup1');
    expect(await commandLineOf(pid)).toMatch(/^sshd: /);
    process.kill(pid, 'SIGKILL');
    const failed = await run.done;
    expect(failed.exitCode).toBe(1);
    expect(failed.json.units[0]).toMatchObject({ status: 'failed', error: { code: 'STREAM_FAILED', message: expect.stringContaining('backup1') } });
    await expectNothingLost(dataset, copy, before, config);
    await expectNextRunRecovers(dataset, copy, config);
  });
});

/**
 * Releases every hold on a dataset's snapshots (as an administrator would to destroy them).
 * zfs-fuse cannot list holds (`zfs holds`), so zfs-fleet places none there: nothing to release.
 */
async function releaseHolds(host: string, dataset: string): Promise<void> {
  const { stdout } = await lab().exec(host, ['sh', '-c', 'zfs list -H -r -t snapshot -o name "$1" | xargs -r zfs holds -H 2>/dev/null || true', 'sh', dataset]);
  for (const line of stdout.split('\n').filter((row) => /^[^\t]+@[^\t]+\t[^\t]+\t/.test(row))) {
    const [snapshot, tag] = line.split('\t');
    await lab().zfs(host, ['release', tag!, snapshot!]);
  }
}

describe('changes between plan and execute: the unit fails with a precise code, nothing else is touched', () => {
  /** A dataset backed up once, and a second backup paused (SIGSTOP) between its plan and its stream. */
  async function pausedAfterPlanning(prefix: string) {
    const dataset = `tank/${uniqueName(prefix)}`;
    const copy = `backup/fleet/src1/${dataset}`;
    await createDatasets('src1', [dataset]);
    cleanUpPeer('backup1', copy);
    await writeRandomFile('src1', dataset, 'a.bin', 100_000);
    const config = await entryConfig(dataset);
    const first = await runFleet(config, ['backup', 'src1', '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
    await writeRandomFile('src1', dataset, 'b.bin', 100_000);
    const run = startFleet(config, ['backup', 'src1', '--json'], { FLEET_FAULT_AT: 'planned:stop' });
    await waitUntil('the controller to pause after planning', () => isStopped(run.pid));
    const peerBefore = await snapshotGuids('backup1', copy);
    const base = first.json.units[0].steps[0].to as string;
    return {
      dataset,
      copy,
      base,
      peerBefore,
      sourceBefore: await snapshotGuids('src1', dataset),
      resume: () => {
        process.kill(run.pid, 'SIGCONT');
        return run.done;
      },
    };
  }

  test.each([
    ['destroyed', 'DATASET_NOT_FOUND'],
    ['renamed', 'DATASET_NOT_FOUND'],
  ])('the source dataset %s after planning', async (change, code) => {
    const paused = await pausedAfterPlanning(change === 'destroyed' ? 'Gone' : 'Moved');
    if (change === 'destroyed') {
      await releaseHolds('src1', paused.dataset);
      await destroyTree('src1', paused.dataset, { mustSucceed: true });
    } else {
      // zfs-fuse says "dataset is busy" for a while after a dataset was written (once for over
      // 30 s in CI): retry for up to a minute, unmounting it between tries.
      await lab().exec('src1', ['sh', '-c', 'for i in $(seq 100); do zfs rename "$1" "$2" 2>/dev/null && exit 0; zfs unmount "$1" 2>/dev/null; sleep 0.6; done; zfs rename "$1" "$2"', 'sh', paused.dataset, `${paused.dataset}-moved`]);
      onTestFinished(() => destroyTree('src1', `${paused.dataset}-moved`));
    }
    const result = await paused.resume();
    expect(result.exitCode).toBe(1);
    expect(result.json.units[0]).toMatchObject({ status: 'failed', error: { code, message: expect.stringContaining(paused.dataset) } });
    expect(await snapshotGuids('backup1', paused.copy)).toEqual(paused.peerBefore);
    if (change === 'renamed') expect(await snapshotGuids('src1', `${paused.dataset}-moved`)).toEqual(paused.sourceBefore);
  });

  test('the base snapshot destroyed on the source after planning', async () => {
    const paused = await pausedAfterPlanning('Base');
    await releaseHolds('src1', paused.dataset);
    await lab().zfs('src1', ['destroy', `${paused.dataset}@${paused.base}`]);
    const result = await paused.resume();
    expect(result.exitCode).toBe(1);
    expect(result.json.units[0]).toMatchObject({ status: 'failed', error: { code: 'BASE_MISSING', message: expect.stringContaining(paused.base) } });
    expect(await snapshotGuids('backup1', paused.copy)).toEqual(paused.peerBefore);
    const source = await snapshotGuids('src1', paused.dataset);
    for (const [name, guid] of paused.sourceBefore) if (name !== paused.base) expect(source.get(name)).toBe(guid);
  });

  test("a snapshot added to the peer's copy after planning", async () => {
    const paused = await pausedAfterPlanning('Added');
    await lab().zfs('backup1', ['snapshot', `${paused.copy}@added-by-hand`]);
    const added = (await snapshotGuids('backup1', paused.copy)).get('added-by-hand');
    const result = await paused.resume();
    expect(result.exitCode).toBe(1);
    expect(result.json.units[0]).toMatchObject({ status: 'failed', error: { code: 'DESTINATION_AHEAD', message: expect.stringContaining('added-by-hand'), details: { phase: 'replicate' } } });
    // zfs-fuse would have received the incremental on top of it; the guard sent nothing.
    expect(await snapshotGuids('backup1', paused.copy)).toEqual(new Map([...paused.peerBefore, ['added-by-hand', added!]]));
    expect(await snapshotGuids('src1', paused.dataset)).toEqual(paused.sourceBefore);
  });
});

describe('a zfs that lies: reported as such, never trusted, never a destroy', () => {
  /** A dataset backed up once (two snapshots, so mirrorDeletions has something to mirror), and its copy. */
  async function backedUp(prefix: string) {
    const dataset = `tank/${uniqueName(prefix)}`;
    const copy = `backup/fleet/src1/${dataset}`;
    await createDatasets('src1', [dataset]);
    cleanUpPeer('backup1', copy);
    await writeRandomFile('src1', dataset, 'a.bin', 100_000);
    const config = await entryConfig(dataset, { entry: { mirrorDeletions: true } });
    expect((await runFleet(config, ['backup', 'src1'])).exitCode).toBe(0);
    expect((await runFleet(config, ['backup', 'src1'])).exitCode).toBe(0);
    return { dataset, copy, source: await snapshotGuids('src1', dataset), peer: await snapshotGuids('backup1', copy) };
  }

  /** The config of `backedUp`, with one host's agent running `zfs` as `script`. */
  async function withZfs(dataset: string, host: 'src1' | 'backup1', script: string): Promise<string> {
    const agent = { command: await agentWithZfs(host, script) };
    const hostConfig = host === 'src1' ? { address: ADDRESSES.src1, agent, backups: [{ dataset, to: ['backup1'], mirrorDeletions: true }] } : { address: ADDRESSES.backup1, agent, receive: { root: 'backup/fleet' } };
    return entryConfig(dataset, { extraHosts: { [host]: hostConfig } });
  }

  // Only the tree listings lie (`zfs get -r`); the probes and everything else are the real zfs.
  const LISTING = 'case " $* " in *" get "*" -r "*)';
  test.each([
    ['garbage on the peer', 'backup1', `${LISTING} echo 'zfs: ☃ all is well'; printf 'tank\\tguid\\n'; exit 0;; esac; exec "$REAL_ZFS" "$@"`],
    ['output cut mid-line on the source', 'src1', `${LISTING} "$REAL_ZFS" "$@" | head -c -9; exit 0;; esac; exec "$REAL_ZFS" "$@"`],
  ] as const)('%s fails with ZFS_OUTPUT_INVALID and destroys nothing', async (_, host, script) => {
    const { dataset, copy, source, peer } = await backedUp(host === 'src1' ? 'Cut' : 'Junk');
    const config = await withZfs(dataset, host, script);
    const result = await runFleet(config, ['backup', 'src1', '--json']);
    expect(result.exitCode).toBe(1);
    expect(result.json.units[0]).toMatchObject({ status: 'failed', error: { code: 'ZFS_OUTPUT_INVALID', message: expect.stringContaining('Unexpected zfs output') } });
    // Every snapshot is still on both sides (the source may have a new one: the snapshot phase ran).
    const sourceAfter = await snapshotGuids('src1', dataset);
    for (const [name, guid] of source) expect(sourceAfter.get(name)).toBe(guid);
    expect(await snapshotGuids('backup1', copy)).toEqual(peer);
  });

  test('a peer whose listing claims a snapshot it does not have (a forged guid): a failed receive, no destroy', async () => {
    const { dataset, copy, peer } = await backedUp('Forged');
    // A snapshot the peer never received, claimed with the source's very guid.
    await lab().zfs('src1', ['snapshot', `${dataset}@not-sent`]);
    const source = await snapshotGuids('src1', dataset);
    const forged = ['type\tsnapshot', `guid\t${source.get('not-sent')}`, 'createtxg\t999999999', `creation\t${Math.floor(Date.now() / 1000)}`, 'referenced\t0'].map((cell) => `${copy}@not-sent\t${cell}\t-\t-\n`).join('');
    const forgery = path.join(await mkdtemp(path.join(os.tmpdir(), 'fleet-forged-')), 'forged.tsv');
    onTestFinished(() => rm(path.dirname(forgery), { recursive: true, force: true }));
    await writeFile(forgery, forged);
    const config = await withZfs(dataset, 'backup1', `${LISTING} "$REAL_ZFS" "$@"; status=$?; cat ${forgery}; exit $status;; esac; exec "$REAL_ZFS" "$@"`);
    const result = await runFleet(config, ['backup', 'src1', '--json']);
    expect(result.exitCode).toBe(1);
    const unit = result.json.units[0];
    expect(unit).toMatchObject({ status: 'failed', steps: [{ action: 'incremental', from: 'not-sent' }], error: { code: 'BASE_MISSING' } });
    const sourceAfter = await snapshotGuids('src1', dataset);
    for (const [name, guid] of source) expect(sourceAfter.get(name)).toBe(guid);
    expect(await snapshotGuids('backup1', copy)).toEqual(peer);
  });
});

describe('timeouts: each fails within its limit naming the phase, and the rest of the fleet goes on', () => {
  /** src1's entry to backup1 and to `extra`; backup1's unit must succeed whatever `extra` does. */
  async function withBadPeer(prefix: string, extra: Record<string, unknown>, options: { ssh?: Record<string, unknown> } = {}) {
    const dataset = `tank/${uniqueName(prefix)}`;
    await createDatasets('src1', [dataset]);
    cleanUpPeer('backup1', `backup/fleet/src1/${dataset}`);
    cleanUpPeer('backup2', `backup/fleet/src1/${dataset}`);
    const config = await entryConfig(dataset, { entry: { to: ['backup1', 'bad'] }, extraHosts: { bad: { receive: { root: 'backup/fleet' }, ...extra } }, ...options });
    const startedAt = Date.now();
    const result = await runFleet(config, ['backup', 'src1', '--json']);
    const seconds = (Date.now() - startedAt) / 1000;
    expect(result.exitCode).toBe(1);
    const byPeer = Object.fromEntries(result.json.units.map((unit: { peer: string }) => [unit.peer, unit]));
    expect(byPeer.backup1).toMatchObject({ status: 'ok' });
    return { bad: byPeer.bad, seconds };
  }

  test('a host that accepts TCP but never speaks SSH', async () => {
    const mute = net.createServer(() => undefined);
    mute.listen(0, '127.0.0.1');
    await once(mute, 'listening');
    onTestFinished(() => {
      mute.close();
    });
    const port = (mute.address() as net.AddressInfo).port;
    const { bad, seconds } = await withBadPeer('Mute', { address: `127.0.0.1:${port}` }, { ssh: { connectTimeoutMs: 3000 } });
    expect(bad).toMatchObject({ status: 'failed', error: { code: 'SSH_CONNECT_FAILED', message: expect.stringMatching(/accepted the TCP connection but .*SSH.* within 3 s \(ssh\.connectTimeoutMs\)/), details: { phase: 'ssh-handshake' } } });
    expect(seconds).toBeLessThan(60);
  });

  test('SSH up, but the agent never answers the handshake', async () => {
    // An "agent" that reads the frames and says nothing; it ends with the channel. /tmp is shared with the lab's hosts.
    const silent = path.join(await mkdtemp(path.join(os.tmpdir(), 'fleet-silent-')), 'silent-agent');
    await writeFile(silent, '#!/bin/sh\nexec cat >/dev/null\n', { mode: 0o755 });
    onTestFinished(() => rm(path.dirname(silent), { recursive: true, force: true }));
    const { bad } = await withBadPeer('Silent', { address: ADDRESSES.backup2, agent: { command: silent } }, { ssh: { handshakeTimeout: '3s' } });
    expect(bad).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT', message: expect.stringContaining('within 3 s (ssh.handshakeTimeout)'), details: { phase: 'handshake' } } });
  });

  test('a stream that stalls (the peer’s sshd carrying it stopped) fails after wire.stallTimeout; the other host goes on', async () => {
    const dataset = `tank/${uniqueName('Stall')}`;
    const other = `tank/${uniqueName('Goes')}`;
    await createDatasets('src1', [dataset]);
    await createDatasets('src2', [other]);
    const copy = `backup/fleet/src1/${dataset}`;
    cleanUpPeer('backup1', copy);
    cleanUpPeer('backup2', `backup/fleet/src2/${other}`);
    await writeRandomFile('src1', dataset, 'stream.bin', 6_000_000);
    const config = await entryConfig(dataset, { wire: { stallTimeout: '3s' }, backups: { src2: [{ dataset: other, to: ['backup2'] }] } });
    const run = startFleet(config, ['backup', 'src1', 'src2', '--json']);
    await waitForStream();
    // zfs-fuse's daemon reads the stream itself, so stopping zfs recv stalls nothing: stop the
    // sshd that carries the bytes from the network into it.
    const sshd = await sshdCarryingTheStream('backup1');
    process.kill(sshd, 'SIGSTOP');
    // However the test ends, the stopped session goes.
    onTestFinished(() => {
      try {
        process.kill(sshd, 'SIGKILL');
      } catch {}
    });
    const stoppedAt = Date.now();
    const result = await run.done;
    const seconds = (Date.now() - stoppedAt) / 1000;
    expect(result.exitCode).toBe(1);
    const stalled = result.json.units.find((unit: { host: string }) => unit.host === 'src1');
    expect(stalled).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT', message: expect.stringContaining('wire.stallTimeout'), details: { phase: 'stream', timeoutMs: 3000 } } });
    expect(result.json.units.find((unit: { host: string }) => unit.host === 'src2')).toMatchObject({ status: 'ok' });
    // Buffers drain first, then 3 s of nothing; well under the default 5 minutes.
    expect(seconds).toBeLessThan(30);
    expect(await snapshotGuids('backup2', `backup/fleet/src2/${other}`)).toEqual(await snapshotGuids('src2', other));
    process.kill(sshd, 'SIGKILL');
    await waitUntil('the stopped receive to go', async () => (await pidsOn('backup1', 'zfs rec[v]')).length === 0);
    // zfs-fuse's daemon, not the zfs command, cleans up a failed receive: give it a moment.
    await waitUntil('no half-received copy on backup1', async () => (await lab().exec('backup1', ['zfs', 'list', copy], { reject: false })).exitCode !== 0, 20_000).catch(async (error: unknown) => {
      throw new Error(`${String(error)}; backup1 has: ${(await lab().exec('backup1', ['zfs', 'list', '-r', '-t', 'all', '-o', 'name,used,referenced', copy], { reject: false })).stdout}`);
    });
    const retry = await runFleet(config, ['backup', 'src1', '--json']);
    expect(retry.exitCode, retry.stderr).toBe(0);
    expect(await hashFile('backup1', copy, 'stream.bin')).toBe(await hashFile('src1', dataset, 'stream.bin'));
  });
});

describe('secrets', () => {
  test('no private key in any process argv sampled during a real run, nor in its logs, --json, journal or metrics', async () => {
    const dataset = `tank/${uniqueName('Secret')}`;
    await createDatasets('src1', [dataset]);
    cleanUpPeer('backup1', `backup/fleet/src1/${dataset}`);
    await writeRandomFile('src1', dataset, 'stream.bin', 2_000_000);
    const config = await entryConfig(dataset);
    // Every private key the run can use: the controller's and each lab host's own.
    const keyTexts = [await readFile(lab().config().ssh.identityFile, 'utf8')];
    for (const host of ['src1', 'backup1']) {
      const { stdout } = await lab().exec(host, ['sh', '-c', 'grep -l "PRIVATE KEY" $(find /root/.ssh -type f) 2>/dev/null | xargs -r cat']);
      keyTexts.push(stdout);
    }
    const secrets = keyTexts.flatMap((text) => text.split('\n').filter((line) => line.length >= 20 && !line.startsWith('-----')));
    expect(secrets.length).toBeGreaterThan(2);

    const run = startFleet(config, ['backup', 'src1', '--json', '--log-level', 'debug']);
    const argvs = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const pid of await readdir('/proc').catch(() => [])) if (/^\d+$/.test(pid)) argvs.add(await commandLineOf(Number(pid)));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    const result = await run.done;
    sampling = false;
    await sampler;
    expect(result.exitCode, result.stderr).toBe(0);
    // The samples did see the run's processes: its stream and its logins.
    const seen = [...argvs].join('\n');
    expect(seen).toMatch(/zfs send/);
    expect(seen).toMatch(/zfs recv/);
    expect(seen).toMatch(/\bssh .*10\.77\.0\.21/);

    const files = [path.join(stateDirOf(config), 'journal.jsonl'), path.join(stateDirOf(config), 'zfs-fleet.prom')];
    const outputs = [seen, result.stdout, result.stderr, ...(await Promise.all(files.map((file) => readFile(file, 'utf8'))))];
    for (const output of outputs) {
      expect(output).not.toContain('PRIVATE KEY');
      for (const secret of secrets) expect(output.includes(secret), `a line of a private key in ${output.slice(0, 80)}…`).toBe(false);
    }
  });
});
