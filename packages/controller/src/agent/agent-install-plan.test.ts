import { describe, expect, test } from 'vitest';
import { chooseRuntime, launcherScript, missingPrerequisites, nodeMajor, parseProbe, probeScript } from './agent-install-plan.ts';

describe('parseProbe', () => {
  test('reads zfs, node and its version; empty values are absent', () => {
    expect(parseProbe('zfs=/usr/sbin/zfs\nnode=/usr/bin/node\nversion=v18.20.8\n')).toEqual({ zfs: '/usr/sbin/zfs', node: '/usr/bin/node', nodeVersion: 'v18.20.8' });
    expect(parseProbe('zfs=\nnode=\n')).toEqual({});
  });
});

describe('nodeMajor', () => {
  test.each([
    ['v18.20.8', 18],
    ['v20.19.0\n', 20],
    ['v16.20.0', 16],
    ['node: not found', undefined],
    ['', undefined],
  ])('%j → %j', (version, major) => {
    expect(nodeMajor(version)).toBe(major);
  });
});

describe('missingPrerequisites', () => {
  const ok = { zfs: '/usr/sbin/zfs', node: '/usr/bin/node', nodeVersion: 'v18.19.0' };

  test('zfs and a Node.js ≥ 18 are all the agent needs', () => {
    expect(missingPrerequisites('src1', ok, undefined)).toEqual([]);
    expect(missingPrerequisites('src1', { ...ok, nodeVersion: 'v24.1.0' }, '/opt/node/bin/node')).toEqual([]);
  });

  test('no zfs names the package', () => {
    expect(missingPrerequisites('src1', { ...ok, zfs: undefined }, undefined)).toEqual([{ code: 'ZFS_NOT_FOUND', message: expect.stringMatching(/^src1 has no zfs on PATH: install zfsutils-linux/) }]);
  });

  test('an old Node.js names its version and both fixes', () => {
    const [missing] = missingPrerequisites('src1', { ...ok, nodeVersion: 'v16.20.0' }, undefined);
    expect(missing?.code).toBe('AGENT_RUNTIME_MISSING');
    expect(missing?.message).toMatch(/^src1 has Node\.js v16\.20\.0 \(\/usr\/bin\/node\); the agent needs ≥ 18: apt install nodejs .* set agent\.runtime/);
  });

  test('no Node.js on PATH, or none at the configured runtime', () => {
    expect(missingPrerequisites('src1', { zfs: '/sbin/zfs' }, undefined)[0]?.message).toMatch(/^src1 has no Node\.js on PATH: apt install nodejs/);
    expect(missingPrerequisites('src1', { zfs: '/sbin/zfs', node: '/opt/n/node' }, '/opt/n/node')[0]?.message).toMatch(/^src1 has no Node\.js at \/opt\/n\/node \(agent\.runtime\)/);
  });

  test('both missing: both reported', () => {
    expect(missingPrerequisites('src1', {}, undefined).map((item) => item.code)).toEqual(['ZFS_NOT_FOUND', 'AGENT_RUNTIME_MISSING']);
  });
});

describe('chooseRuntime', () => {
  const linux = { zfs: '/usr/sbin/zfs', platform: 'Linux-x86_64' };

  test('a Node.js ≥ 18 on PATH runs the bundle', () => {
    expect(chooseRuntime('src1', { ...linux, node: '/usr/bin/node', nodeVersion: 'v18.19.0\n' }, undefined)).toEqual({ plan: { kind: 'node', node: '/usr/bin/node', nodeVersion: 'v18.19.0' }, missing: [] });
  });

  test('no Node.js, or one too old, on a Linux x86_64 host: the single executable, saying why', () => {
    expect(chooseRuntime('src1', linux, undefined).plan).toEqual({ kind: 'bundled', why: 'no Node.js on PATH' });
    expect(chooseRuntime('src1', { ...linux, node: '/usr/bin/node', nodeVersion: 'v16.20.0' }, undefined).plan).toEqual({ kind: 'bundled', why: '/usr/bin/node is Node.js v16.20.0, older than 18' });
  });

  test('agent.runtime: bundled takes the single executable even where Node.js is', () => {
    expect(chooseRuntime('src1', { ...linux, node: '/usr/bin/node', nodeVersion: 'v22.1.0' }, 'bundled').plan).toEqual({ kind: 'bundled', why: 'agent.runtime: bundled' });
  });

  test('the single executable is not offered where it cannot run, nor instead of a configured runtime, nor without zfs', () => {
    const arm = chooseRuntime('pi', { zfs: '/sbin/zfs', platform: 'Linux-aarch64' }, undefined);
    expect(arm.plan).toBeUndefined();
    expect(arm.missing.map((item) => item.code)).toEqual(['AGENT_RUNTIME_MISSING']);
    expect(chooseRuntime('pi', { zfs: '/sbin/zfs', platform: 'Linux-aarch64' }, 'bundled').missing[0]?.message).toMatch(/^pi is Linux-aarch64; the agent's single executable \(agent.runtime: bundled\) is built for Linux-x86_64 only/);
    expect(chooseRuntime('src1', linux, '/opt/n/node').plan).toBeUndefined();
    expect(chooseRuntime('src1', { platform: 'Linux-x86_64' }, undefined).missing.map((item) => item.code)).toEqual(['ZFS_NOT_FOUND']);
    expect(chooseRuntime('src1', { platform: 'Linux-x86_64' }, 'bundled').missing.map((item) => item.code)).toEqual(['ZFS_NOT_FOUND']);
  });
});

describe('scripts', () => {
  test('the launcher execs the bundle on the chosen runtime with all arguments', () => {
    expect(launcherScript('0.1.0', ['/usr/bin/node', '/opt/zfs-fleet/lib/fleet-agent-0.1.0.mjs'])).toBe("#!/bin/sh\n# zfs-fleet agent 0.1.0, installed by `fleet agent install`.\nexec '/usr/bin/node' '/opt/zfs-fleet/lib/fleet-agent-0.1.0.mjs' \"$@\"\n");
    expect(launcherScript('0.1.0', ['/opt/zfs-fleet/lib/fleet-agent-0.1.0-linux-x64'])).toMatch(/\nexec '\/opt\/zfs-fleet\/lib\/fleet-agent-0\.1\.0-linux-x64' "\$@"\n$/);
  });

  test('the probe runs in sh and finds node on PATH or at the configured runtime', async () => {
    const { execFileSync } = await import('node:child_process');
    const run = (script: string) => parseProbe(execFileSync('sh', ['-c', script], { encoding: 'utf8', env: { PATH: `${process.env.PATH}` } }));
    expect(run(probeScript(process.execPath)).nodeVersion).toBe(process.version);
    expect(run(probeScript(undefined)).platform).toBe(`Linux-${process.arch === 'x64' ? 'x86_64' : process.arch}`);
    expect(run(probeScript('/nonexistent/node'))).toMatchObject({ node: '/nonexistent/node' });
    expect(run(probeScript('/nonexistent/node')).nodeVersion).toBeUndefined();
  });
});
