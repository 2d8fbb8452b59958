import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { buildRecvArgs, buildSendArgs, createSnapshots, destroySnapshot } from './commands.ts';
import { capabilitiesFromVersion } from './capabilities.ts';
import { classifyZfsError } from './classify-error.ts';
import type { ZfsExec } from './exec.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

function fakeZfs(): ZfsExec & { argv: string[][] } {
  const argv: string[][] = [];
  return {
    argv,
    run: async (args) => (argv.push([...args]), { exitCode: 0, stdout: '', stderr: '' }),
    spawn: () => {
      throw new Error('unused');
    },
    calls: () => ({ total: argv.length, byVerb: {} }),
  };
}

describe('send and receive arguments', () => {
  it('builds a full recursive send', () => {
    expect(buildSendArgs({ snapshot: 'tank/a@s2', replicate: true })).toEqual(['send', '-R', 'tank/a@s2']);
  });
  it('builds an incremental with intermediates and OpenZFS flags', () => {
    expect(buildSendArgs({ snapshot: 'tank/a@s2', from: 'tank/a@s1', largeBlocks: true, embedded: true, compressed: true, raw: true })).toEqual(['send', '-L', '-e', '-c', '-w', '-I', 'tank/a@s1', 'tank/a@s2']);
  });
  it('resumes from a token alone', () => {
    expect(buildSendArgs({ snapshot: 'tank/a@s2', from: 'tank/a@s1', resumeToken: '1-abc' })).toEqual(['send', '-t', '1-abc']);
  });
  it('builds a receive under a root, discarding the pool name', () => {
    expect(buildRecvArgs({ target: 'backup/fleet/src1/tank', discardPool: true, force: true, noMount: true })).toEqual(['recv', '-d', '-F', '-u', 'backup/fleet/src1/tank']);
  });
  it('validates the target name before it reaches zfs', () => {
    expect(() => buildRecvArgs({ target: 'backup/-x; rm -rf /' })).toThrow(expect.objectContaining({ code: 'DATASET_NAME_INVALID' }));
  });
});

describe('commands', () => {
  it('snapshots a tree atomically with -r, one call per dataset on old zfs', async () => {
    const zfs = fakeZfs();
    await createSnapshots(
      zfs,
      [
        { dataset: 'tank/a', name: 's1' },
        { dataset: 'tank/b', name: 's1' },
      ],
      { recursive: true },
    );
    expect(zfs.argv).toEqual([
      ['snapshot', '-r', 'tank/a@s1'],
      ['snapshot', '-r', 'tank/b@s1'],
    ]);
  });
  it('snapshots many datasets in one call where zfs allows it', async () => {
    const zfs = fakeZfs();
    await createSnapshots(
      zfs,
      [
        { dataset: 'tank/a', name: 's1' },
        { dataset: 'tank/b', name: 's1' },
      ],
      { recursive: false, manyPerCall: true },
    );
    expect(zfs.argv).toEqual([['snapshot', 'tank/a@s1', 'tank/b@s1']]);
  });
  it('refuses snapshot names zfs would reject, before calling zfs', async () => {
    const zfs = fakeZfs();
    await expect(createSnapshots(zfs, [{ dataset: 'tank/a', name: 'bad%name' }], { recursive: false })).rejects.toMatchObject({ code: 'SNAPSHOT_NAME_INVALID' });
    expect(zfs.argv).toEqual([]);
  });
  it('destroys exactly one snapshot, never recursively', async () => {
    const zfs = fakeZfs();
    await destroySnapshot(zfs, 'backup/fleet/src1/tank/a', 'old');
    expect(zfs.argv).toEqual([['destroy', 'backup/fleet/src1/tank/a@old']]);
  });
  it('refuses an empty snapshot name with SNAPSHOT_NAME_INVALID and runs nothing', async () => {
    const zfs = fakeZfs();
    await expect(destroySnapshot(zfs, 'tank/a', '')).rejects.toMatchObject({ code: 'SNAPSHOT_NAME_INVALID' });
    expect(zfs.argv).toEqual([]);
  });
});

describe('capabilities', () => {
  it('reads OpenZFS 2.x `zfs version`', () => {
    expect(capabilitiesFromVersion(fixture('openzfs-2/version-2.1.stdout'))).toMatchObject({ implementation: 'openzfs', version: 'zfs-2.1.11-1', resumableReceive: true, rawSend: true, bookmarks: true });
    expect(capabilitiesFromVersion(fixture('openzfs-2/version-2.3.stdout'))?.version).toBe('zfs-2.3.2-2~bpo12+2');
  });
  it('finds no version in zfs-fuse, which lacks the command', () => {
    expect(capabilitiesFromVersion(fixture('zfs-fuse/version.stderr'))).toBeUndefined();
  });
});

describe('classifyZfsError on recorded stderr', () => {
  it.each([
    ['zfs-fuse/recv-exists.stderr', 'DESTINATION_NOT_EMPTY'],
    ['zfs-fuse/recv-nodest.stderr', 'DATASET_NOT_FOUND'],
    ['zfs-fuse/send-nobase.stderr', 'BASE_MISSING'],
    ['zfs-fuse/snapshot-exists.stderr', 'DESTINATION_NOT_EMPTY'],
    ['zfs-fuse/destroy-missing.stderr', 'DATASET_NOT_FOUND'],
    ['zfs-fuse/create-noparent.stderr', 'DATASET_NOT_FOUND'],
  ] as const)('%s → %s', (file, code) => {
    expect(classifyZfsError(fixture(file)).code).toBe(code);
  });
  it("OpenZFS 2.3 (recorded on the suite's host): a missing incremental base is BASE_MISSING, as on zfs-fuse, once the argv says it was the base", () => {
    const stderr = fixture('openzfs-2/send-nobase-2.3.stderr');
    const missing = /cannot open '([^']+)'/.exec(stderr)![1]!;
    expect(classifyZfsError(stderr, ['send', '-i', missing, `${missing.split('@')[0]}@two`]).code).toBe('BASE_MISSING');
    expect(classifyZfsError(stderr, ['send', '-I', `@${missing.split('@')[1]}`, `${missing.split('@')[0]}@two`]).code).toBe('BASE_MISSING');
    // Anything else that is missing stays DATASET_NOT_FOUND.
    expect(classifyZfsError(stderr, ['send', `${missing.split('@')[0]}@two`]).code).toBe('DATASET_NOT_FOUND');
    expect(classifyZfsError(fixture('openzfs-2/recv-exists-2.3.stderr')).code).toBe('DESTINATION_NOT_EMPTY');
    expect(classifyZfsError(fixture('openzfs-2/destroy-missing-2.3.stderr')).code).toBe('DATASET_NOT_FOUND');
  });
  it('OpenZFS 2.3: destroying a held snapshot ("it\'s being held") is DATASET_BUSY, as zfs-fuse\'s "dataset is busy", with a hint that names the hold', () => {
    const held = classifyZfsError(fixture('openzfs-2/destroy-held-2.3.stderr'), ['destroy', 'tank/fx@one']);
    expect(held.code).toBe('DATASET_BUSY');
    expect(held.hint).toContain('zfs holds -r');
  });
  it.each([
    ['cannot receive incremental stream: destination tank/b has been modified\nsince most recent snapshot', 'DESTINATION_MODIFIED'],
    ['cannot receive new filesystem stream: out of space', 'POOL_FULL'],
    ['cannot receive incremental stream: destination has snapshots (eg. tank/b@x)\nmust destroy them to overwrite it', 'DESTINATION_AHEAD'],
    ['cannot receive incremental stream: most recent snapshot of tank/b does not\nmatch incremental source', 'BASE_MISSING'],
    ["cannot destroy 'tank/b@x': permission denied", 'PERMISSION_DENIED'],
    ['something new', 'ZFS_FAILED'],
  ] as const)('OpenZFS: %s → %s', (stderr, code) => {
    expect(classifyZfsError(stderr).code).toBe(code);
  });
});

describe('holds on the incremental base', () => {
  it('holds the new base before releasing the old one, recursively for -R transfers', async () => {
    const { moveHoldArgs } = await import('./holds.ts');
    expect(moveHoldArgs({ dataset: 'tank/a', from: 's1', to: 's2', peer: 'backup1', recursive: true })).toEqual([
      ['hold', '-r', 'zfs-fleet:backup1', 'tank/a@s2'],
      ['release', '-r', 'zfs-fleet:backup1', 'tank/a@s1'],
    ]);
    expect(moveHoldArgs({ dataset: 'tank/a', to: 's1', peer: 'backup1', recursive: false })).toEqual([['hold', 'zfs-fleet:backup1', 'tank/a@s1']]);
  });
});

describe('send size estimate', () => {
  it('reads the size line of `zfs send -nP` (OpenZFS 2.x)', async () => {
    const { parseSendEstimate } = await import('./commands.ts');
    expect(parseSendEstimate('incremental\tfleet-1\ttank/a@fleet-2\t20971520\nsize\t20971520\n')).toBe(20971520);
    expect(parseSendEstimate('usage: send [-RDp] ...')).toBeUndefined();
  });
});

describe('createDatasets', () => {
  it('creates each missing level on its own, marked as created by zfs-fleet, and takes "already exists" as done (a concurrent run won the race)', async () => {
    const { createDatasets } = await import('./commands.ts');
    const argv: string[][] = [];
    const answers = [
      { exitCode: 1, stdout: '', stderr: "cannot create 'backup/fleet': dataset already exists" },
      { exitCode: 0, stdout: '', stderr: '' },
    ];
    const zfs: ZfsExec = {
      run: async (args) => (argv.push([...args]), answers.shift()!),
      spawn: () => {
        throw new Error('unused');
      },
      calls: () => ({ total: 0, byVerb: {} }),
    };
    await createDatasets(zfs, ['backup/fleet/src1'], { properties: { atime: 'off' }, createdAt: new Date('2026-12-02T00:00:00Z') });
    const mark = ['-o', 'zfs-fleet:created=2026-12-02T00:00:00.000Z'];
    expect(argv).toEqual([
      ['create', ...mark, 'backup/fleet'],
      ['create', ...mark, '-o', 'atime=off', 'backup/fleet/src1'],
    ]);
  });

  it('fails on any other error', async () => {
    const { createDatasets } = await import('./commands.ts');
    const zfs: ZfsExec = {
      run: async () => ({ exitCode: 1, stdout: '', stderr: 'cannot create: out of space' }),
      spawn: () => {
        throw new Error('unused');
      },
      calls: () => ({ total: 0, byVerb: {} }),
    };
    await expect(createDatasets(zfs, ['backup/x'])).rejects.toMatchObject({ message: expect.stringContaining('out of space') });
  });
});
