import { setTimeout } from 'node:timers/promises';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createFakeFleet, fakeFleetConfig, type FakeFleet } from '../agent/fake-fleet.fixture.ts';
import { runBackup, type BackupOptions } from './run-backup.ts';

const logger = pino({ level: 'silent' });
const at = (iso: string) => () => new Date(iso);
const guidsOf = (fleet: FakeFleet, host: string, dataset: string) => fleet.zfs[host]!.state.datasets.get(dataset)?.snapshots.map((s) => `${s.name}:${s.guid}`);

function backup(fleet: FakeFleet, options: Partial<BackupOptions> = {}): Omit<BackupOptions, 'hosts'> & { hosts: string[] } {
  return { hosts: ['src1'], dryRun: false, noSnapshot: false, forceFull: false, force: false, now: at('2026-11-01T03:30:00Z'), connect: fleet.connect, ...options };
}

describe('runBackup', () => {
  it("sends a full stream, then an incremental one, and the peer ends with the source's guids", async () => {
    const fleet = createFakeFleet({ src1: ['tank/a/b'], backup1: ['backup'] });
    const config = fakeFleetConfig({ src1: [{ dataset: 'tank/a', recursive: true, to: ['backup1'] }] });
    const first = await runBackup(config, backup(fleet), logger);
    expect(first.units).toMatchObject([{ status: 'ok', steps: [{ action: 'full', to: 'fleet-20261101T033000.000Z' }], phases: ['lock', 'preSnapshot', 'snapshot', 'postSnapshot', 'replicate', 'export', 'pruneExports', 'pruneSnapshots', 'unlock'].map((name) => ({ name })) }]);
    expect(first.units[0]!.phases!.filter((phase) => phase.status !== 'skipped').map((phase) => phase.name)).toEqual(['lock', 'snapshot', 'replicate', 'unlock']);
    expect(first.hosts).toMatchObject([{ host: 'src1', snapshot: 'fleet-20261101T033000.000Z', phases: ['lock', 'preSnapshot', 'snapshot', 'postSnapshot', 'replicate', 'export', 'pruneExports', 'pruneSnapshots', 'unlock'].map((name) => ({ name })) }, { host: 'backup1' }]);
    const second = await runBackup(config, backup(fleet, { now: at('2026-11-02T03:30:00Z') }), logger);
    expect(second.ok).toBe(true);
    expect(second.units[0]?.steps).toMatchObject([{ action: 'incremental', from: 'fleet-20261101T033000.000Z', to: 'fleet-20261102T033000.000Z' }]);
    expect(guidsOf(fleet, 'backup1', 'backup/fleet/src1/tank/a/b')).toEqual(guidsOf(fleet, 'src1', 'tank/a/b'));
    expect(guidsOf(fleet, 'src1', 'tank/a/b')).toHaveLength(2);
  });

  it('a snapshot prefix too long for zfs is refused before any host is touched (exit 2 then means nothing ran)', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], backup1: ['backup'] });
    const connected: string[] = [];
    const config = { ...fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'] }] }), snapshotPrefix: 'p'.repeat(250) };
    const connect = (host: string) => (connected.push(host), fleet.connect(host));
    await expect(runBackup(config, backup(fleet, { connect }), logger)).rejects.toMatchObject({ code: 'SNAPSHOT_NAME_INVALID' });
    expect(connected).toEqual([]);
  });

  it('leaves every new copy canmount=noauto, in one zfs set, and sets nothing on the next run', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a/b', 'tank/a/c'], backup1: ['backup'] });
    const config = fakeFleetConfig({ src1: [{ dataset: 'tank/a', recursive: true, to: ['backup1'] }] });
    await runBackup(config, backup(fleet), logger);
    const copies = ['tank/a', 'tank/a/b', 'tank/a/c'].map((dataset) => fleet.zfs.backup1!.state.datasets.get(`backup/fleet/src1/${dataset}`)?.canmount);
    expect(copies).toEqual(['noauto', 'noauto', 'noauto']);
    const sets = () => fleet.zfs.backup1!.argv.filter((argv) => argv[0] === 'set');
    expect(sets()).toHaveLength(1);
    await runBackup(config, backup(fleet, { now: at('2026-11-02T03:30:00Z') }), logger);
    expect(sets()).toHaveLength(1);
  });

  it('a plan takes no snapshot and sends nothing, and shows the snapshot the run would take', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], backup1: ['backup'] });
    const report = await runBackup(fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'] }] }), backup(fleet, { dryRun: true }), logger);
    expect(report).toMatchObject({ command: 'plan', ok: true, units: [{ status: 'planned', steps: [{ action: 'full', to: 'fleet-20261101T033000.000Z' }] }] });
    expect(report.units[0]).not.toHaveProperty('phases');
    expect(fleet.zfs.src1!.argv.filter(([verb]) => verb !== 'get')).toEqual([]);
    expect(fleet.zfs.backup1!.argv.filter(([verb]) => verb !== 'get')).toEqual([]);
  });

  it('costs each host a constant number of zfs calls, whatever its number of datasets', async () => {
    const children = Array.from({ length: 20 }, (_, i) => `tank/many/c${i}`);
    const many = createFakeFleet({ src1: children, backup1: ['backup'] });
    const one = createFakeFleet({ src1: ['tank/one'], backup1: ['backup'] });
    const callsOf = async (fleet: FakeFleet, dataset: string) => {
      const report = await runBackup(fakeFleetConfig({ src1: [{ dataset, recursive: true, to: ['backup1'] }] }), backup(fleet), logger);
      return report.hosts.map((host) => `${host.host}:${host.zfsCalls?.total}`);
    };
    expect(await callsOf(many, 'tank/many')).toEqual(await callsOf(one, 'tank/one'));
  });

  it('a source host that cannot be reached fails its units alone; the other host is backed up', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], src2: ['tank/b'], backup1: ['backup'] });
    const config = fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'] }], src2: [{ dataset: 'tank/b', to: ['backup1'] }] });
    const connect = (host: string) => (host === 'src1' ? Promise.reject(Object.assign(new Error('unreachable'), {})) : fleet.connect(host));
    const report = await runBackup(config, backup(fleet, { hosts: ['src1', 'src2'], connect }), logger);
    expect(report.ok).toBe(false);
    expect(report.units.map((unit) => `${unit.host}:${unit.status}`)).toEqual(['src1:failed', 'src2:ok']);
    expect(report.hosts.find((host) => host.host === 'src1')?.error?.message).toBe('unreachable');
  });

  it('a peer whose listing fails fails only the units to it', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], backup1: ['backup'], backup2: ['backup'] });
    const config = fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1', 'backup2'] }] });
    const connect = (host: string) => (host === 'backup2' ? Promise.reject(new Error('host key changed')) : fleet.connect(host));
    const report = await runBackup(config, backup(fleet, { connect }), logger);
    expect(report.units.map((unit) => `${unit.peer}:${unit.status}:${unit.error?.message ?? ''}`)).toEqual(['backup1:ok:', 'backup2:failed:host key changed']);
  });

  it('a run whose peer drops after the data moved still ends in a report', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], backup1: ['backup'] });
    const config = fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'] }] });
    // The peer's channel is gone by the time the run asks for its zfs call count.
    fleet.zfs.backup1!.calls = () => {
      throw new Error('channel closed');
    };
    const report = await runBackup(config, backup(fleet), logger);
    expect(report.units).toMatchObject([{ host: 'src1', dataset: 'tank/a', peer: 'backup1', status: 'ok', steps: [{ action: 'full', to: 'fleet-20261101T033000.000Z' }] }]);
    expect(guidsOf(fleet, 'backup1', 'backup/fleet/src1/tank/a')).toEqual(guidsOf(fleet, 'src1', 'tank/a'));
    expect(report.hosts.find((host) => host.host === 'backup1')).not.toHaveProperty('zfsCalls');
  });

  it('a host named twice is snapshotted once', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], backup1: ['backup'] });
    const report = await runBackup(fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'] }] }), backup(fleet, { hosts: ['src1', 'src1'] }), logger);
    expect(report.ok).toBe(true);
    expect(report.units).toHaveLength(1);
    expect(fleet.zfs.src1!.argv.filter(([verb]) => verb === 'snapshot')).toEqual([['snapshot', 'tank/a@fleet-20261101T033000.000Z']]);
  });

  it('reports where every unit and host spent its time: queueing, connecting, the agent start, listing, planning, the transfer', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], src2: ['tank/b'], backup1: ['backup'] });
    const config = fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'] }], src2: [{ dataset: 'tank/b', to: ['backup1'] }] });
    config.parallel = { ...config.parallel, connections: 2 };
    // The peer's agent takes 40 ms to answer hello: its handshake shows it.
    const connect = async (host: string) => {
      if (host === 'backup1') await setTimeout(40);
      return fleet.connect(host);
    };
    const report = await runBackup(config, backup(fleet, { hosts: ['src1', 'src2'], connect }), logger);
    expect(report.ok).toBe(true);
    const byHost = Object.fromEntries(report.hosts.map((host) => [host.host, host.timings]));
    expect(byHost.backup1).toMatchObject({ sessions: 1, connectMs: 0 });
    expect(byHost.backup1!.handshakeMs).toBeGreaterThanOrEqual(35);
    // Two connections: src1 and backup1 first; src2 waits until src1 is done and its session closed.
    expect(byHost.src1).toMatchObject({ sessions: 1 });
    expect(byHost.src1!.queuedMs).toBeLessThan(20);
    expect(byHost.src2!.queuedMs).toBeGreaterThanOrEqual(35);
    for (const unit of report.units) {
      expect(Object.keys(unit.timings ?? {}).sort()).toEqual(['listMs', 'planMs', 'slotWaitMs', 'transferMs']);
      expect(unit.timings!.transferMs).toBe(unit.phases!.find((phase) => phase.name === 'replicate')!.durationMs);
    }
    expect(report.hosts.find((host) => host.host === 'src1')!.phases!.find((phase) => phase.name === 'snapshot')).toMatchObject({ status: 'ok' });
  });

  it('never holds more sessions open than parallel.connections, and still backs up every host', async () => {
    const sources = ['src1', 'src2', 'src3', 'src4', 'src5'];
    const fleet = createFakeFleet({ ...Object.fromEntries(sources.map((host) => [host, [`tank/${host}`]])), backup1: ['backup'] });
    const config = fakeFleetConfig(Object.fromEntries(sources.map((host) => [host, [{ dataset: `tank/${host}`, to: ['backup1'] }]])));
    config.parallel = { ...config.parallel, connections: 2 };
    let open = 0;
    let mostOpen = 0;
    const connect = async (host: string) => {
      open += 1;
      mostOpen = Math.max(mostOpen, open);
      await setTimeout(5);
      const session = await fleet.connect(host);
      return { ...session, close: () => ((open -= 1), session.close()) };
    };
    const report = await runBackup(config, backup(fleet, { hosts: sources, connect }), logger);
    expect(report.units.map((unit) => `${unit.host}:${unit.status}`)).toEqual(sources.map((host) => `${host}:ok`));
    for (const host of sources) expect(guidsOf(fleet, 'backup1', `backup/fleet/${host}/tank/${host}`)).toEqual(guidsOf(fleet, host, `tank/${host}`));
    expect(mostOpen).toBe(2);
    expect(open).toBe(0);
    // The peer stayed open throughout; each source waited for the one before it.
    expect(report.hosts.find((host) => host.host === 'backup1')?.timings?.sessions).toBe(1);
    expect(report.hosts.filter((host) => (host.timings?.queuedMs ?? 0) >= 5).map((host) => host.host)).toEqual(['src2', 'src3', 'src4', 'src5']);
  });
});
