import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createFakeFleet, fakeFleetConfig } from '../agent/fake-fleet.fixture.ts';
import { runBackup } from '../backup/run-backup.ts';
import { runVerify } from './run-verify.ts';

const logger = pino({ level: 'silent' });
const now = new Date('2026-11-01T04:00:00Z');

describe('runVerify', () => {
  it('finds every copy after a backup, with one zfs listing per host', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a/b'], backup1: ['backup'], backup2: ['backup'] });
    const config = fakeFleetConfig({ src1: [{ dataset: 'tank/a', recursive: true, to: ['backup1', 'backup2'] }] });
    await runBackup(config, { hosts: ['src1'], dryRun: false, noSnapshot: false, forceFull: false, force: false, now: () => new Date('2026-11-01T03:30:00Z'), connect: fleet.connect }, logger);
    const report = await runVerify(config, { hosts: ['src1'], now, connect: fleet.connect }, logger);
    expect(report.rows.map((row) => `${row.peer} ${row.dataset} ${row.status}`)).toEqual(['backup1 tank/a OK', 'backup1 tank/a/b OK', 'backup2 tank/a OK', 'backup2 tank/a/b OK']);
    // One `zfs get` per host (the fake agent is given its capabilities, so it probes nothing).
    expect(report.zfsCalls).toEqual({ src1: 1, backup1: 1, backup2: 1 });
  });

  it('reports a host it cannot ask as UNREACHABLE, never as missing data', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], backup1: ['backup'] });
    const config = fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1', 'backup2'] }] });
    const connect = (host: string) => (host === 'backup2' ? Promise.reject(new Error('no route to host')) : fleet.connect(host));
    const report = await runVerify(config, { hosts: ['src1'], now, connect }, logger);
    expect(report.ok).toBe(false);
    expect(report.rows.map((row) => `${row.peer} ${row.status}`)).toEqual(['backup1 MISSING', 'backup2 UNREACHABLE']);
    expect(report.rows[1]?.details).toEqual(['backup2 is unreachable: INTERNAL: no route to host']);
  });
});
