import { describe, expect, it } from 'vitest';
import { buildRecvArgs, capabilitiesFromVersion } from '@zfs-fleet/zfs';
import { ZFS_FUSE_CAPABILITIES } from '@zfs-fleet/zfs/testing';
import { buildTransferCommands } from './build-transfer-commands.ts';

/** The commands as the two hosts run them. */
const argv = (commands: ReturnType<typeof buildTransferCommands>) => ({ send: commands.send, recv: buildRecvArgs(commands.recv) });

// What the agent probes on each kind of host (OpenZFS from a recorded `zfs version`).
const openzfs = capabilitiesFromVersion('zfs-2.1.11-1\nzfs-kmod-2.1.11-1\n')!;
const zfsFuse = ZFS_FUSE_CAPABILITIES;
const transfer = { dataset: 'tank/a', to: 's2', from: 's1', recursive: true, receiveInto: 'backup/fleet/src1/tank', force: false } as never;

describe('buildTransferCommands', () => {
  it('uses only what zfs-fuse has', () => {
    expect(argv(buildTransferCommands(transfer, zfsFuse, zfsFuse))).toEqual({
      send: ['send', '-R', '-I', 'tank/a@s1', 'tank/a@s2'],
      recv: ['recv', '-d', '-u', 'backup/fleet/src1/tank'],
    });
  });

  it('adds -L -e -c and a resumable receive where both ends run OpenZFS 2.x', () => {
    expect(argv(buildTransferCommands(transfer, openzfs, openzfs))).toEqual({
      send: ['send', '-R', '-L', '-e', '-c', '-I', 'tank/a@s1', 'tank/a@s2'],
      recv: ['recv', '-d', '-u', '-s', 'backup/fleet/src1/tank'],
    });
  });

  it('keeps to the older end: OpenZFS sending to zfs-fuse sends a plain stream', () => {
    expect(buildTransferCommands(transfer, openzfs, zfsFuse).send).toEqual(['send', '-R', '-I', 'tank/a@s1', 'tank/a@s2']);
  });

  it('resumes an interrupted receive from its token alone', () => {
    const resume = { dataset: 'tank/a', resumeToken: '1-e604ea4bf-e0', recursive: false, receiveInto: 'backup/fleet/src1/tank', force: false } as never;
    expect(buildTransferCommands(resume, openzfs, openzfs).send).toEqual(['send', '-t', '1-e604ea4bf-e0']);
  });

  it('sends encrypted datasets raw, and never decrypted to a peer that cannot take raw streams', () => {
    const encrypted = { ...(transfer as object), raw: true } as never;
    expect(buildTransferCommands(encrypted, openzfs, openzfs).send).toContain('-w');
    expect(() => buildTransferCommands(encrypted, openzfs, zfsFuse)).toThrow(expect.objectContaining({ code: 'ENCRYPTION_UNSUPPORTED' }));
  });
});
