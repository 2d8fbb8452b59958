import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { capabilitiesFromVersion, classifyZfsError, listTreeArgs, parseResumeToken, parseSendEstimate, parseTree } from '@zfs-fleet/zfs';
import { runFleet, uniqueName, vm, writeConfig, writeRandom } from './support.ts';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../packages/zfs/src/fixtures/openzfs-2');
/** OPENZFS_RECORD_FIXTURES=1 writes what the real host printed over the recorded fixtures. */
const RECORD = process.env['OPENZFS_RECORD_FIXTURES'] === '1';

function fixture(name: string, actual: string): string {
  if (RECORD) writeFileSync(path.join(FIXTURES, name), actual);
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

let config: string;

beforeAll(async () => {
  config = await writeConfig({});
});

describe('scenario 1: the agent on a real OpenZFS 2.3 host, and what it can do', () => {
  it('`fleet agent install` installs the agent on the guest like on any host (Debian 12 nodejs)', async () => {
    const run = await runFleet(config, ['agent', 'install', 'src', '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json.rows[0]).toMatchObject({ host: 'src', ok: true, result: { runtime: '/usr/bin/node' } });
    expect(run.json.rows[0].result.nodeVersion).toMatch(/^v18\./);
    expect((await vm().exec(['/opt/zfs-fleet/bin/fleet-agent', 'version'])).stdout.trim()).toBe(run.json.rows[0].result.version);
  });

  it('`fleet doctor` shows zfs version and the capability list, in text and --json', async () => {
    const json = await runFleet(config, ['doctor', 'src', 'bak', '--json']);
    const failing = json.json.checks.filter((check: { status: string }) => check.status === 'FAIL');
    expect(failing, JSON.stringify(failing)).toEqual([]);
    const zfsChecks = json.json.checks.filter((check: { check: string }) => check.check === 'zfs');
    expect(zfsChecks).toHaveLength(2);
    for (const check of zfsChecks) {
      expect(check.capabilities).toMatchObject({
        implementation: 'openzfs',
        holds: true,
        resumableReceive: true,
        rawSend: true,
        compressedSend: true,
        largeBlocks: true,
        embeddedData: true,
        sendEstimate: true,
        bookmarks: true,
        listParsable: true,
      });
      expect(check.capabilities.version).toMatch(/^zfs-2\.3\./);
    }
    const text = await runFleet(config, ['doctor', 'src']);
    expect(text.stdout).toMatch(/openzfs: zfs-2\.3\.\S+; has: holds, resume \(recv -s, send -t\), raw sends \(-w\), -c, -L, -e, estimates \(send -nP\), bookmarks/);
    expect(text.stdout).not.toContain('lacks');
  });
});

describe('scenario 8: the parsers against what this real host prints (fixtures refreshed from it)', () => {
  const root = `tank/${uniqueName('fx')}`;

  beforeAll(async () => {
    const guest = vm();
    await guest.zfs(['create', '-p', `${root}/child`]);
    await writeRandom(`/${root}/file`, 1);
    await guest.zfs(['snapshot', '-r', `${root}@one`]);
    await writeRandom(`/${root}/file2`, 1);
    await guest.zfs(['snapshot', '-r', `${root}@two`]);
  });

  it('zfs version', async () => {
    const actual = (await vm().exec(['zfs', 'version'])).stdout + '\n';
    const recorded = fixture('version-2.3.stdout', actual);
    expect(capabilitiesFromVersion(actual)).toEqual(capabilitiesFromVersion(recorded));
    expect(capabilitiesFromVersion(actual)?.version).toMatch(/^zfs-2\.3\./);
  });

  it('the tree listing: one zfs get for datasets and snapshots, exact guids', async () => {
    // The agent's own argv (with the prune's hold counts), so the fixture is what the engine reads.
    const capabilities = capabilitiesFromVersion((await vm().exec(['zfs', 'version'])).stdout)!;
    await vm().zfs(['hold', 'fixture-tree', `${root}/child@two`]);
    const actual = `${(await vm().exec(['zfs', ...listTreeArgs([root], capabilities, { holds: true })])).stdout}\n`;
    fixture('get-tree-2.3.stdout', actual);
    const tree = parseTree(actual);
    expect(tree.datasets[1]!.snapshots.map((snapshot) => snapshot.holds)).toEqual([0, 1]);
    expect(tree.datasets[0]!.canmount).toEqual({ value: 'on' });
    expect(tree.datasets.map((d) => d.name)).toEqual([root, `${root}/child`]);
    const guids = (await vm().zfs(['list', '-Hp', '-t', 'snapshot', '-o', 'name,guid', '-r', root]))
      .trim()
      .split('\n')
      .map((line) => line.split('\t'));
    for (const [name, guid] of guids) {
      const [dataset, snap] = name!.split('@');
      expect(tree.datasets.find((d) => d.name === dataset)?.snapshots.find((s) => s.name === snap)?.guid).toBe(guid);
    }
    expect(tree.datasets[0]!.encrypted).toBe(false);
    expect(tree.datasets[0]!.resumeToken).toBeUndefined();
  });

  it('send -nP estimates', async () => {
    const full = (await vm().exec(['zfs', 'send', '-n', '-P', `${root}@one`])).stdout;
    fixture('send-nP-full-2.3.stdout', full);
    expect(parseSendEstimate(full)).toBeGreaterThan(1_000_000);
    const incremental = await vm().exec(['zfs', 'send', '-n', '-P', '-I', `${root}@one`, `${root}@two`]);
    fixture('send-nP-incremental-2.3.stdout', incremental.stdout);
    expect(parseSendEstimate(incremental.stdout)).toBeGreaterThan(1_000_000);
  });

  it('errors: the messages classify as on zfs-fuse', async () => {
    const cases: Array<[string, string[], string]> = [
      ['recv-exists-2.3.stderr', ['sh', '-c', `zfs send ${root}@one | zfs recv ${root}/child`], 'DESTINATION_NOT_EMPTY'],
      ['send-nobase-2.3.stderr', ['zfs', 'send', '-i', `${root}@nope`, `${root}@two`], 'BASE_MISSING'],
      ['destroy-missing-2.3.stderr', ['zfs', 'destroy', `${root}@nope`], 'DATASET_NOT_FOUND'],
      ['destroy-held-2.3.stderr', ['zfs', 'destroy', `${root}@one`], 'DATASET_BUSY'],
    ];
    await vm().zfs(['hold', 'fixture-test', `${root}@one`]);
    for (const [name, argv, code] of cases) {
      const result = await vm().exec(argv, { reject: false });
      expect(result.exitCode, `${argv.join(' ')}`).not.toBe(0);
      fixture(name, result.stderr);
      const zfsArgv = argv[0] === 'zfs' ? argv.slice(1) : [];
      expect({ name, code: classifyZfsError(result.stderr, zfsArgv).code }).toEqual({ name, code });
    }
  });

  it('resume tokens decode (zfs send -nv -t), also once their snapshot is gone', async () => {
    const guest = vm();
    const big = `tank/${uniqueName('tok')}`;
    await guest.zfs(['create', big]);
    await writeRandom(`/${big}/a`, 2);
    await guest.zfs(['snapshot', `${big}@base`]);
    await writeRandom(`/${big}/b`, 6);
    await guest.zfs(['snapshot', `${big}@next`]);
    const copy = `backup/${uniqueName('tokcopy')}`;
    await guest.sh(`zfs send ${big}@base | zfs recv -u ${copy}`);
    // 2 MB of a 6 MB incremental, then the stream ends: the receive keeps its state (-s).
    const cut = await guest.sh(`zfs send -i @base ${big}@next | head -c 2000000 | zfs recv -s -u ${copy}`, { reject: false });
    expect(cut.exitCode).not.toBe(0);
    const token = (await guest.zfs(['get', '-H', '-o', 'value', 'receive_resume_token', copy])).trim();
    expect(token).toMatch(/^[0-9a-f]+-[0-9a-f]+-/);
    const decoded = await guest.exec(['zfs', 'send', '-n', '-v', '-t', token], { reject: false });
    const recorded = fixture('send-nvt-incremental-2.3.stdout', `${decoded.stdout}\n${decoded.stderr}`);
    const nextGuid = (await guest.zfs(['get', '-Hp', '-o', 'value', 'guid', `${big}@next`])).trim();
    const baseGuid = (await guest.zfs(['get', '-Hp', '-o', 'value', 'guid', `${big}@base`])).trim();
    expect(parseResumeToken(`${decoded.stdout}\n${decoded.stderr}`)).toEqual({ toName: `${big}@next`, toGuid: nextGuid, fromGuid: baseGuid });
    expect(parseResumeToken(recorded)).toMatchObject({ toName: expect.stringMatching(/@next$/) });

    await guest.zfs(['destroy', `${big}@next`]);
    const stale = await guest.exec(['zfs', 'send', '-n', '-v', '-t', token], { reject: false });
    expect(stale.exitCode).not.toBe(0);
    fixture('send-nvt-stale-2.3.stdout', `${stale.stdout}\n${stale.stderr}`);
    expect(stale.stderr).toContain('no longer exists');
    expect(parseResumeToken(`${stale.stdout}\n${stale.stderr}`)).toEqual({ toName: `${big}@next`, toGuid: nextGuid, fromGuid: baseGuid });
  });
});
