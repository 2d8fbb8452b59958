import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { type ExportManifest, FleetConfigSchema } from '@zfs-fleet/protocol';
import { createFakeFleet, type FakeFleet } from '../agent/fake-fleet.fixture.ts';
import { runBackup } from '../backup/run-backup.ts';
import { runPrune } from '../prune/run-prune.ts';

const logger = pino({ level: 'silent' });
const RECIPIENT = 'age16z43qssq3sp9z2jcl2a2ynk65spgmxstryzvkv3dk5q5eexgw9lqkasd6e';
const at = (iso: string) => () => new Date(iso);

function setUp(entry: Record<string, unknown> = {}) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'fleet-target-'));
  const fleet = createFakeFleet({ src1: ['tank/a'] });
  const config = FleetConfigSchema.parse({
    ssh: { identityFile: '/nonexistent/id', knownHosts: '/nonexistent/known_hosts' },
    hosts: { src1: { address: 'src1.test', backups: [{ dataset: 'tank/a', to: ['nas'], sequence: ['lock', 'snapshot', 'export', 'pruneExports', ...(entry['keep'] ? ['pruneSnapshots'] : []), 'unlock'], ...entry }] } },
    targets: { nas: { type: 'directory', path: root } },
    exports: { encryption: { recipients: [RECIPIENT] }, fullEvery: '7d' },
  });
  return { root, fleet, config };
}

/** A committed export on the target, as an agent would have left it (chunks are not read by planning). */
function writeManifest(root: string, fleet: FakeFleet, snapshot: string, exportId: string, createdAt: string, base?: ExportManifest['base']): ExportManifest {
  const info = fleet.zfs['src1']!.state.datasets.get('tank/a')!.snapshots.find((candidate) => candidate.name === snapshot)!;
  const manifest: ExportManifest = {
    format: 'zfs-fleet-v1',
    exportId,
    toolVersion: '0.1.0',
    zfsVersion: 'zfs-fuse',
    host: 'src1',
    dataset: 'tank/a' as never,
    kind: base ? 'incremental' : 'full',
    createdAt,
    snapshot: { name: snapshot, guid: info.guid, createtxg: String(info.createtxg) },
    ...(base ? { base } : {}),
    sendFlags: ['-p'],
    stream: { bytes: 10, sha256: 'a'.repeat(64) },
    compression: 'zstd',
    encryption: { scheme: 'age', recipients: [RECIPIENT] },
    chunkSizeBytes: 1024 * 1024,
    chunks: [{ name: '00000000.zst.age', rawBytes: 10, storedBytes: 100, storedSha256: 'b'.repeat(64) }],
  };
  const folder = path.join(root, 'zfs-fleet-v1/src1/tank/a', exportId);
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'manifest.json'), JSON.stringify(manifest));
  return manifest;
}

const snapshotNames = (fleet: FakeFleet) => fleet.zfs['src1']!.state.datasets.get('tank/a')!.snapshots.map((snapshot) => snapshot.name);

describe('exports in a backup run', () => {
  it('fleet plan shows a full for a target without exports, an incremental from the last full, then up to date', async () => {
    const { root, fleet, config } = setUp();
    await fleet.zfs['src1']!.run(['snapshot', 'tank/a@fleet-20261101T000000.000Z']);
    const plan = await runBackup(config, { hosts: ['src1'], dryRun: true, noSnapshot: true, forceFull: false, force: false, now: at('2026-11-02T00:00:00Z'), connect: fleet.connect }, logger);
    expect(plan.exports).toEqual([expect.objectContaining({ host: 'src1', dataset: 'tank/a', target: 'nas', status: 'planned', action: 'full', snapshot: 'fleet-20261101T000000.000Z', reason: 'none yet: the target has no full export of this dataset' })]);

    const full = writeManifest(root, fleet, 'fleet-20261101T000000.000Z', '20261101T000000Z-00000001', '2026-11-01T00:00:00.000Z');
    await fleet.zfs['src1']!.run(['snapshot', 'tank/a@fleet-20261102T000000.000Z']);
    const next = await runBackup(config, { hosts: ['src1'], dryRun: true, noSnapshot: true, forceFull: false, force: false, now: at('2026-11-02T01:00:00Z'), connect: fleet.connect }, logger);
    expect(next.exports).toMatchObject([{ status: 'planned', action: 'incremental', mode: 'differential', snapshot: 'fleet-20261102T000000.000Z', base: { snapshot: full.snapshot.name, exportId: full.exportId } }]);
    const forced = await runBackup(config, { hosts: ['src1'], dryRun: true, noSnapshot: true, forceFull: true, force: false, now: at('2026-11-02T01:00:00Z'), connect: fleet.connect }, logger);
    expect(forced.exports).toMatchObject([{ action: 'full', reason: 'forced: --force-full' }]);

    writeManifest(root, fleet, 'fleet-20261102T000000.000Z', '20261102T000000Z-00000002', '2026-11-02T00:00:00.000Z', { name: full.snapshot.name, guid: full.snapshot.guid, exportId: full.exportId });
    const done = await runBackup(config, { hosts: ['src1'], dryRun: true, noSnapshot: true, forceFull: false, force: false, now: at('2026-11-02T02:00:00Z'), connect: fleet.connect }, logger);
    expect(done.exports).toMatchObject([{ status: 'up-to-date', exportId: '20261102T000000Z-00000002' }]);
    expect(done.ok).toBe(true);
  });

  it('a host without age fails the export step with TOOL_MISSING, after the snapshot; pruneExports does not run after it; the run is not ok', async () => {
    const { fleet, config } = setUp();
    const report = await runBackup(config, { hosts: ['src1'], dryRun: false, noSnapshot: false, forceFull: false, force: false, now: at('2026-11-02T00:00:00Z'), connect: fleet.connect }, logger);
    expect(report.ok).toBe(false);
    expect(report.exports).toMatchObject([{ status: 'failed', action: 'full', error: { code: 'TOOL_MISSING' } }]);
    expect(report.sequences?.[0]?.steps.map((step) => `${step.step}:${step.status}`)).toEqual(['lock:ok', 'snapshot:ok', 'export:failed', 'unlock:ok']);
    expect(snapshotNames(fleet)).toEqual(['fleet-20261102T000000.000Z']);
  });

  it('pruning on the source keeps the snapshot the next differential export starts from, naming the target', async () => {
    const { root, fleet, config } = setUp({ keep: { hourly: 1 } });
    for (const name of ['fleet-20261101T000000.000Z', 'fleet-20261101T010000.000Z', 'fleet-20261101T020000.000Z']) await fleet.zfs['src1']!.run(['snapshot', `tank/a@${name}`]);
    writeManifest(root, fleet, 'fleet-20261101T000000.000Z', '20261101T000000Z-00000001', '2026-11-01T00:00:00.000Z');
    const report = await runPrune(config, { hosts: ['src1'], dryRun: false, now: at('2026-11-01T03:00:00Z'), connect: fleet.connect }, logger);
    const verdicts = report.units[0]!.datasets[0]!.snapshots;
    expect(verdicts.find((verdict) => verdict.name === 'fleet-20261101T000000.000Z')).toMatchObject({ action: 'keep', reasons: [expect.stringContaining('target "nas"')] });
    expect(snapshotNames(fleet)).toEqual(['fleet-20261101T000000.000Z', 'fleet-20261101T020000.000Z']);
  });
});
