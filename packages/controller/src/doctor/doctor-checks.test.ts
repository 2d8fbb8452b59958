import { describe, expect, test } from 'vitest';
import { OPENZFS_2_3_CAPABILITIES, ZFS_FUSE_CAPABILITIES } from '@zfs-fleet/zfs/testing';
import { describeCapabilities, judgeFreeSpace, judgePeerLogin, judgeExportTarget } from './doctor-checks.ts';

const GIB = 1024 ** 3;

describe('free space on a peer', () => {
  test.each([
    [50 * GIB, 50 * GIB, 'OK'],
    [5 * GIB, 95 * GIB, 'WARN'],
    [0.5 * GIB, 0.1 * GIB, 'WARN'],
    [2 * GIB, 10 * GIB, 'OK'],
  ])('%d free, %d used → %s', (availableBytes, usedBytes, status) => {
    expect(judgeFreeSpace('backup1', 'backup', { availableBytes, usedBytes }).status).toBe(status);
  });
});

describe('a source logging in to its peer', () => {
  test('ssh failing (exit 255) means no key: run fleet keys setup', () => {
    expect(judgePeerLogin('src1', 'backup1', { exitCode: 255, stdout: '', stderr: 'root@10.77.0.21: Permission denied (publickey).\n' })).toEqual({
      host: 'src1',
      check: 'peer key → backup1',
      status: 'FAIL',
      message: 'src1 cannot log in to backup1: root@10.77.0.21: Permission denied (publickey).',
      fix: 'run `fleet keys setup src1`',
    });
  });

  test('a forced command refusing `true` still proves the login', () => {
    expect(judgePeerLogin('src1', 'backup1', { exitCode: 1, stdout: '', stderr: 'fleet-agent: only "zfs recv" is allowed\n' }).status).toBe('OK');
    expect(judgePeerLogin('src1', 'backup1', { exitCode: 0, stdout: '', stderr: '' }).message).toBe('src1 logs in to backup1');
  });
});

describe('zfs capabilities in doctor', () => {
  test('OpenZFS 2.3 lists every feature the engine uses and lacks none', () => {
    const text = describeCapabilities(OPENZFS_2_3_CAPABILITIES);
    expect(text).toBe('openzfs: zfs-2.3.2-1~bpo12+1; has: holds, resume (recv -s, send -t), raw sends (-w), -c, -L, -e, estimates (send -nP), bookmarks, list -p, get -t, recv -u');
  });

  test('zfs-fuse says what it lacks', () => {
    const text = describeCapabilities(ZFS_FUSE_CAPABILITIES);
    expect(text).toContain('has: recv -u; lacks: holds, resume (recv -s, send -t), raw sends (-w)');
  });
});

describe('judgeExportTarget', () => {
  test('a reachable target with age and zstd is OK; an unreachable one fails with its code and hint; missing tools are named', () => {
    expect(judgeExportTarget('src1', 'nas', { reachable: true, age: true, zstd: true }).map((check) => check.status)).toEqual(['OK', 'OK']);
    const [target, tools] = judgeExportTarget('src1', 'nas', { reachable: false, error: { code: 'TARGET_UNREACHABLE', message: 'directory /mnt/nas does not exist or is not a directory', hint: 'create it' }, age: false, zstd: true });
    expect(target).toMatchObject({ status: 'FAIL', message: expect.stringContaining('TARGET_UNREACHABLE: directory /mnt/nas'), fix: 'create it' });
    expect(tools).toMatchObject({ status: 'FAIL', message: 'src1 lacks age, which exports need', fix: 'apt install age' });
  });
});
