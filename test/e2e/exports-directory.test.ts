import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { createDatasets, destroyTree, hashFile, lab, runFleet, snapshotGuids, uniqueName, writeFleetConfig, writeRandomFile, type FleetRun } from './support/fleet.ts';

/** An age key pair made for this test: the identity stays on the controller (here), only the recipient goes to config. */
async function ageKeys(): Promise<{ identityFile: string; identity: string; recipient: string }> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'fleet-age-'));
  const identityFile = path.join(directory, 'identity.txt');
  execFileSync('age-keygen', ['-o', identityFile], { stdio: 'ignore' });
  const identity = (await readFile(identityFile, 'utf8')).match(/AGE-SECRET-KEY-1[0-9A-Z]+/)![0];
  return { identityFile, identity, recipient: execFileSync('age-keygen', ['-y', identityFile], { encoding: 'utf8' }).trim() };
}

/** A directory target on src1, removed when the test ends. */
async function directoryTarget(): Promise<string> {
  const root = `/var/tmp/${uniqueName('exports')}`;
  await lab().exec('src1', ['mkdir', '-p', root]);
  onTestFinished(async () => {
    await lab().exec('src1', ['rm', '-rf', root]);
  });
  return root;
}

const sh = async (host: string, script: string, ...args: string[]) => (await lab().exec(host, ['sh', '-c', script, 'sh', ...args])).stdout;

/** The manifests on the target, oldest first. */
async function manifests(root: string, dataset: string) {
  const folder = `${root}/zfs-fleet-v1/src1/${dataset}`;
  const ids = (await sh('src1', 'ls "$1" 2>/dev/null; true', folder)).split('\n').filter(Boolean);
  const found = [];
  for (const id of ids.sort()) {
    const text = await sh('src1', 'cat "$1/manifest.json" 2>/dev/null; true', `${folder}/${id}`);
    if (text.trim()) found.push(JSON.parse(text));
  }
  return found;
}

const day = (n: number) => `2030-04-${String(n).padStart(2, '0')}T12:00:00Z`;

interface Setup {
  dataset: string;
  root: string;
  config: string;
  keys: Awaited<ReturnType<typeof ageKeys>>;
}

async function setUp(exports: Record<string, unknown> = {}, entry: Record<string, unknown> = {}): Promise<Setup> {
  const dataset = `tank/${uniqueName('Exp')}`;
  await createDatasets('src1', [dataset]);
  const root = await directoryTarget();
  const keys = await ageKeys();
  const config = await writeFleetConfig(
    { src1: [{ dataset, to: ['nas'], sequence: ['lock', 'snapshot', 'export', 'pruneExports', 'unlock'], ...entry } as never] },
    { top: { targets: { nas: { type: 'directory', path: root } }, exports: { encryption: { recipients: [keys.recipient] }, chunkSize: '1M', ...exports } } },
  );
  return { dataset, root, config, keys };
}

async function backup(setup: Setup, n: number, extra: string[] = []): Promise<FleetRun> {
  const run = await runFleet(setup.config, ['backup', 'src1', '--json', '--now', day(n), ...extra]);
  expect(run.exitCode, run.stdout + run.stderr).toBe(0);
  return run;
}

describe('exports to a directory target', () => {
  test('a full then an incremental, restored to a new dataset on another host: same bytes, same guids, every chunk in the manifest with its sha256', async () => {
    const setup = await setUp();
    await writeRandomFile('src1', setup.dataset, 'a.bin', 2_500_000);
    const first = await backup(setup, 1);
    expect(first.json.exports).toMatchObject([{ host: 'src1', dataset: setup.dataset, target: 'nas', status: 'ok', action: 'full', reason: expect.stringContaining('none yet') }]);
    expect(first.json.exports[0].chunks).toBeGreaterThanOrEqual(3);
    await writeRandomFile('src1', setup.dataset, 'b.bin', 1_200_000);
    const second = await backup(setup, 2);
    expect(second.json.exports).toMatchObject([{ status: 'ok', action: 'incremental', mode: 'differential', base: { exportId: first.json.exports[0].exportId } }]);

    const [full, incremental] = await manifests(setup.root, setup.dataset);
    expect(full).toMatchObject({ format: 'zfs-fleet-v1', host: 'src1', dataset: setup.dataset, kind: 'full', compression: 'zstd', encryption: { scheme: 'age', recipients: [setup.keys.recipient] }, chunkSizeBytes: 1024 * 1024 });
    expect(incremental).toMatchObject({ kind: 'incremental', base: { name: full.snapshot.name, guid: full.snapshot.guid, exportId: full.exportId } });
    const guids = await snapshotGuids('src1', setup.dataset);
    expect([full.snapshot.guid, incremental.snapshot.guid]).toEqual([guids.get(full.snapshot.name), guids.get(incremental.snapshot.name)]);
    // Every chunk on disk is the manifest's, byte for byte, and nothing else is in the folder.
    for (const manifest of [full, incremental]) {
      const folder = `${setup.root}/zfs-fleet-v1/src1/${setup.dataset}/${manifest.exportId}`;
      const sums = await sh('src1', 'cd "$1" && sha256sum * && stat -c "%n %s" *', folder);
      for (const chunk of manifest.chunks) {
        expect(sums).toContain(`${chunk.storedSha256}  ${chunk.name}`);
        expect(sums).toContain(`${chunk.name} ${chunk.storedBytes}`);
      }
      expect((await sh('src1', 'ls "$1"', folder)).trim().split('\n').sort()).toEqual([...manifest.chunks.map((chunk: { name: string }) => chunk.name), 'manifest.json'].sort());
    }

    const restored = `tank/${uniqueName('FromExport')}`;
    onTestFinished(() => destroyTree('src2', restored));
    const restore = await runFleet(setup.config, ['restore', 'src1', setup.dataset, '--from', 'nas', '--to', `src2:${restored}`, '--identity', setup.keys.identityFile, '--json']);
    expect(restore.exitCode, restore.stdout + restore.stderr).toBe(0);
    expect(restore.json.chain.map((link: { exportId: string }) => link.exportId)).toEqual([full.exportId, incremental.exportId]);
    for (const file of ['a.bin', 'b.bin']) expect(await hashFile('src2', restored, file)).toBe(await hashFile('src1', setup.dataset, file));
    const status = await runFleet(setup.config, ['status', '--json']);
    expect(status.json.rows.find((row: { peer: string }) => row.peer === 'nas')).toMatchObject({ host: 'src1', dataset: setup.dataset, newestCopy: { snapshot: incremental.snapshot.name } });
    const restoredGuids = await snapshotGuids('src2', restored);
    expect(restoredGuids.get(full.snapshot.name)).toBe(full.snapshot.guid);
    expect(restoredGuids.get(incremental.snapshot.name)).toBe(incremental.snapshot.guid);
  });

  test('fullEvery on an injected clock; chained incrementals reference the previous export; a chain of 1 full + 3 incrementals restores to its middle snapshot', async () => {
    const differential = await setUp({ fullEvery: '5d' });
    for (const n of [1, 2, 3]) {
      await writeRandomFile('src1', differential.dataset, `d${n}.bin`, 300_000);
      await backup(differential, n);
    }
    await writeRandomFile('src1', differential.dataset, 'd9.bin', 300_000);
    const late = await backup(differential, 9);
    expect(late.json.exports).toMatchObject([{ action: 'full', reason: expect.stringContaining('fullEvery passed') }]);
    const diff = await manifests(differential.root, differential.dataset);
    expect(diff.map((m) => m.kind)).toEqual(['full', 'incremental', 'incremental', 'full']);
    expect(diff[1].base.exportId).toBe(diff[0].exportId);
    expect(diff[2].base.exportId).toBe(diff[0].exportId);

    const chained = await setUp({ incremental: 'chained' });
    const hashes: string[] = [];
    for (const n of [1, 2, 3, 4]) {
      await writeRandomFile('src1', chained.dataset, `c${n}.bin`, 300_000);
      hashes.push(await hashFile('src1', chained.dataset, `c${n}.bin`));
      await backup(chained, n);
    }
    const chain = await manifests(chained.root, chained.dataset);
    expect(chain.map((m) => m.kind)).toEqual(['full', 'incremental', 'incremental', 'incremental']);
    for (const index of [1, 2, 3]) expect(chain[index].base).toMatchObject({ exportId: chain[index - 1].exportId, guid: chain[index - 1].snapshot.guid });

    const middle = `tank/${uniqueName('Middle')}`;
    onTestFinished(() => destroyTree('src1', middle));
    const restore = await runFleet(chained.config, ['restore', 'src1', chained.dataset, '--from', 'nas', '--snapshot', chain[2].snapshot.name, '--to', `src1:${middle}`, '--identity', chained.keys.identityFile, '--json']);
    expect(restore.exitCode, restore.stdout + restore.stderr).toBe(0);
    expect(restore.json.chain.map((link: { exportId: string }) => link.exportId)).toEqual(chain.slice(0, 3).map((m) => m.exportId));
    for (const n of [1, 2, 3]) expect(await hashFile('src1', middle, `c${n}.bin`)).toBe(hashes[n - 1]);
    expect((await lab().exec('src1', ['sh', '-c', 'test -e "$(zfs get -H -o value mountpoint "$1")/c4.bin"', 'sh', middle], { reject: false })).exitCode).not.toBe(0);
    expect([...(await snapshotGuids('src1', middle)).values()]).toEqual(chain.slice(0, 3).map((m) => m.snapshot.guid));
  });

  test('a flipped byte: verify --deep names target, export and chunk, restore refuses before receiving; a deleted chunk: plain verify names it', async () => {
    const setup = await setUp();
    await writeRandomFile('src1', setup.dataset, 'a.bin', 2_500_000);
    await backup(setup, 1);
    const [manifest] = await manifests(setup.root, setup.dataset);
    const chunk = manifest.chunks[1].name;
    const file = `${setup.root}/zfs-fleet-v1/src1/${setup.dataset}/${manifest.exportId}/${chunk}`;
    expect((await runFleet(setup.config, ['verify', 'src1', '--deep'])).exitCode).toBe(0);
    // One byte in the middle of the chunk, flipped in place (same size).
    await sh('src1', 'b=$(od -An -tu1 -j 5000 -N1 "$1" | tr -d " "); printf "$(printf "\\\\%03o" $(( b ^ 255 )))" | dd of="$1" bs=1 seek=5000 conv=notrunc 2>/dev/null', file);
    expect((await runFleet(setup.config, ['verify', 'src1'])).exitCode).toBe(0);
    const deep = await runFleet(setup.config, ['verify', 'src1', '--deep', '--json']);
    expect(deep.exitCode).toBe(1);
    expect(deep.json.exports).toMatchObject([{ target: 'nas', status: 'damaged', problems: [{ exportId: manifest.exportId, chunk, problem: 'sha256' }] }]);
    const words = await runFleet(setup.config, ['verify', 'src1', '--deep']);
    expect(words.stdout).toContain(`target "nas", export ${manifest.exportId}, chunk ${chunk}: sha256`);

    const restored = `tank/${uniqueName('Refused')}`;
    onTestFinished(() => destroyTree('src2', restored));
    const refused = await runFleet(setup.config, ['restore', 'src1', setup.dataset, '--from', 'nas', '--to', `src2:${restored}`, '--identity', setup.keys.identityFile, '--json']);
    expect(refused.exitCode).toBe(1);
    expect(refused.json.error).toMatchObject({ code: 'EXPORT_CHUNK_INVALID', message: expect.stringContaining(`chunk ${chunk} of export ${manifest.exportId}`) });
    expect(
      await lab()
        .exec('src2', ['zfs', 'list', '-H', '-t', 'all', '-o', 'name', '-r', restored], { reject: false })
        .then((r) => r.exitCode),
    ).not.toBe(0);

    await lab().exec('src1', ['rm', file]);
    const missing = await runFleet(setup.config, ['verify', 'src1', '--json']);
    expect(missing.exitCode).toBe(1);
    expect(missing.json.exports[0].problems).toMatchObject([{ exportId: manifest.exportId, chunk, problem: 'missing' }]);
  });

  test('prune keeps keep.fulls chains whole and deletes older chains, manifest first', async () => {
    const setup = await setUp({ keep: { fulls: 1 } });
    await writeRandomFile('src1', setup.dataset, 'a.bin', 300_000);
    await backup(setup, 1);
    await writeRandomFile('src1', setup.dataset, 'b.bin', 300_000);
    await backup(setup, 2);
    const before = await manifests(setup.root, setup.dataset);
    expect(before.map((m) => m.kind)).toEqual(['full', 'incremental']);
    const forced = await backup(setup, 3, ['--force-full']);
    expect(forced.json.exports).toMatchObject([{ action: 'full', reason: expect.stringContaining('forced') }]);
    expect(forced.json.exportPrune).toMatchObject([{ target: 'nas', status: 'ok', keepFulls: 1, deleted: before.map((m) => ({ exportId: m.exportId })) }]);
    const after = await manifests(setup.root, setup.dataset);
    expect(after.map((m) => m.kind)).toEqual(['full']);
    expect((await sh('src1', 'ls "$1"/zfs-fleet-v1/src1/"$2"', setup.root, setup.dataset)).trim()).toBe(after[0].exportId);
    // The next export is an incremental from the kept full, whose snapshot the source still has.
    await writeRandomFile('src1', setup.dataset, 'c.bin', 300_000);
    const next = await backup(setup, 4);
    expect(next.json.exports).toMatchObject([{ action: 'incremental', base: { exportId: after[0].exportId } }]);
  });

  test('no secret anywhere: not in output, logs, journal, manifests, the target, or ps during a restore', async () => {
    const setup = await setUp();
    await writeRandomFile('src1', setup.dataset, 'a.bin', 3_000_000);
    const runs = [await backup(setup, 1, ['--log-level', 'debug'])];
    const restored = `tank/${uniqueName('Secretless')}`;
    onTestFinished(() => destroyTree('src1', restored));
    // ps on the host and here, while the restore runs.
    const seen: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        seen.push((await lab().exec('src1', ['ps', '-eo', 'args'], { reject: false })).stdout, execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    runs.push(await runFleet(setup.config, ['restore', 'src1', setup.dataset, '--from', 'nas', '--to', `src1:${restored}`, '--identity', setup.keys.identityFile, '--json', '--log-level', 'debug']));
    watching = false;
    await watcher;
    expect(runs[1]!.exitCode, runs[1]!.stdout + runs[1]!.stderr).toBe(0);
    runs.push(await runFleet(setup.config, ['status', '--json']));
    expect(seen.some((text) => /age --decrypt -i \/tmp\/zfs-fleet-identity-[^/]+\/identity/.test(text))).toBe(true);
    const stateDir = path.join(path.dirname(setup.config), 'state');
    const journal = (await readdir(stateDir)).map((name) => path.join(stateDir, name));
    const stored = await sh('src1', 'cat "$1"/zfs-fleet-v1/src1/"$2"/*/manifest.json; grep -rl AGE-SECRET-KEY "$1" /tmp/zfs-fleet-spool 2>/dev/null; true', setup.root, setup.dataset);
    const everything = [...runs.flatMap((run) => [run.stdout, run.stderr]), ...seen, stored, ...(await Promise.all(journal.map((file) => readFile(file, 'utf8').catch(() => ''))))].join('\n');
    expect(everything).toContain(setup.keys.recipient);
    expect(everything).not.toContain(setup.keys.identity);
    expect(everything).not.toContain('AGE-SECRET-KEY');
    // The FIFO the identity went through is gone with its directory: the host keeps nothing of it.
    expect((await sh('src1', 'ls -d /tmp/zfs-fleet-identity-* 2>/dev/null; true')).trim()).toBe('');
  });

  test('bad input: an unknown name in to:, a recipient that is not an age key, a secret key as recipient, a missing target directory', async () => {
    const dataset = `tank/${uniqueName('Bad')}`;
    await createDatasets('src1', [dataset]);
    const keys = await ageKeys();
    const good = { encryption: { recipients: [keys.recipient] } };
    const unknown = await writeFleetConfig({ src1: [{ dataset, to: ['nas', 'offsite'] }] }, { top: { targets: { nas: { type: 'directory', path: '/var/tmp/x' } }, exports: good } });
    const unknownRun = await runFleet(unknown, ['backup', 'src1']);
    expect(unknownRun.exitCode).toBe(2);
    expect(unknownRun.stderr + unknownRun.stdout).toContain('hosts.src1.backups.0.to.1: "offsite" is neither a host nor a target');

    const typo = `${keys.recipient.slice(0, -1)}${keys.recipient.endsWith('q') ? 'p' : 'q'}`;
    const badRecipient = await writeFleetConfig({ src1: [{ dataset, to: ['nas'] }] }, { top: { targets: { nas: { type: 'directory', path: '/var/tmp/x' } }, exports: { encryption: { recipients: ['ssh-ed25519 AAAAC3Nza', typo] } } } });
    const badRun = await runFleet(badRecipient, ['backup', 'src1']);
    expect(badRun.exitCode).toBe(2);
    expect(badRun.stderr + badRun.stdout).toContain('exports.encryption.recipients.0');
    expect(badRun.stderr + badRun.stdout).toContain('exports.encryption.recipients.1');
    expect(badRun.stderr + badRun.stdout).toContain('checksum');

    const secret = await writeFleetConfig({ src1: [{ dataset, to: ['nas'] }] }, { top: { targets: { nas: { type: 'directory', path: '/var/tmp/x' } }, exports: { encryption: { recipients: [keys.identity] } } } });
    const secretRun = await runFleet(secret, ['backup', 'src1']);
    expect(secretRun.exitCode).toBe(2);
    expect(secretRun.stderr + secretRun.stdout).toContain('is an age identity (a private key)');
    expect(secretRun.stderr + secretRun.stdout).not.toContain(keys.identity);

    const missingRoot = `/var/tmp/${uniqueName('notmounted')}`;
    const unreachable = await writeFleetConfig({ src1: [{ dataset, to: ['nas'] }] }, { top: { targets: { nas: { type: 'directory', path: missingRoot } }, exports: good } });
    const unreachableRun = await runFleet(unreachable, ['backup', 'src1', '--json']);
    expect(unreachableRun.exitCode).toBe(1);
    expect(unreachableRun.json.exports).toMatchObject([{ target: 'nas', status: 'failed', error: { code: 'TARGET_UNREACHABLE', message: expect.stringContaining(`directory ${missingRoot}`) } }]);
    expect((await lab().exec('src1', ['test', '-e', missingRoot], { reject: false })).exitCode).not.toBe(0);
    const doctor = await runFleet(unreachable, ['doctor', 'src1']);
    expect(doctor.stdout).toContain(`cannot use export target "nas": TARGET_UNREACHABLE: directory ${missingRoot}`);
    expect(doctor.stdout).toMatch(/export tools.*age and zstd are installed/);
  });
});
