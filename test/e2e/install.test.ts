import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { labDown, labUp, type Lab } from '@zfs-fleet/lab';
import { dashboardQueries, metricNamesIn } from '../../packages/controller/src/metrics/dashboard-queries.ts';

// Installing zfs-fleet like a user: the npm package with `npm install -g`, the two .debs with
// dpkg, and the agent's single executable on a host with no Node.js. A lab of its own
// (10.77.16.x): sea16 has no Node.js on its PATH, pkg16 has one; each backs up to the other.
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LAB_DIR = path.join(REPO, '.lab/install');
const PACKAGES = path.join(REPO, 'dist/packages');
const VERSION = '0.1.0';
const TARBALL = path.join(PACKAGES, `zfs-fleet-${VERSION}.tgz`);
const CONTROLLER_DEB = path.join(PACKAGES, `zfs-fleet_${VERSION}_all.deb`);
const AGENT_DEB = path.join(PACKAGES, `zfs-fleet-agent_${VERSION}_amd64.deb`);
const BUILT = [path.join(REPO, 'packages/controller/dist/fleet.mjs'), path.join(REPO, 'packages/agent/dist/fleet-agent-linux-x64')];

let lab: Lab;
let dir: string;
let prefix: string;
let debRoot: string;
/** lintian on both .debs, started early: it takes a minute or two on the agent's 100 MB executable. */
let lintian: Promise<{ exitCode?: number; stdout: string; stderr: string }>;

/** The packages, built by scripts/package.sh unless `npm run package` already made them from this build. */
async function ensurePackages(): Promise<void> {
  const newest = Math.max(...BUILT.map((file) => (existsSync(file) ? statSync(file).mtimeMs : Infinity)));
  const fresh = [TARBALL, CONTROLLER_DEB, AGENT_DEB].every((file) => existsSync(file) && statSync(file).mtimeMs >= newest);
  if (!fresh) await execa('bash', [path.join(REPO, 'scripts/package.sh'), PACKAGES], { stdio: ['ignore', 'inherit', 'inherit'] });
}

async function writeConfig(name: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(
    file,
    stringify({
      ssh: { identityFile: path.join(LAB_DIR, 'keys/fleet'), knownHosts: path.join(LAB_DIR, 'known_hosts'), connectTimeoutMs: 5000 },
      stateDir: path.join(dir, 'state'),
      hosts: {
        sea16: { address: '10.77.16.11', backups: [{ dataset: 'tank/Sea', to: ['pkg16'], rpo: '1h' }], receive: { root: 'tank/fleet' } },
        pkg16: { address: '10.77.16.21', backups: [{ dataset: 'backup/Pkg', to: ['sea16'], rpo: '1h' }], receive: { root: 'backup/fleet' } },
      },
    }),
  );
  return file;
}

/** Runs an installed `fleet`, as a script would: no TTY, --json parsed. */
async function fleet(bin: string, config: string, args: string[]) {
  const result = await execa(bin, ['--config', config, ...args, '--json'], { reject: false, env: { FLEET_CONFIG: '' }, timeout: 170_000 });
  let json: any;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    throw new Error(`${bin} ${args.join(' ')} printed no JSON (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`);
  }
  return { exitCode: result.exitCode, json, stderr: result.stderr };
}

async function writeRandom(host: string, dataset: string, file: string, bytes: number): Promise<void> {
  await lab.exec(host, ['sh', '-c', 'head -c "$3" /dev/urandom > "$(zfs get -H -o value mountpoint "$1")/$2"', 'sh', dataset, file, String(bytes)]);
}

/** sha256 of a file in a dataset, mounting a (received, unmounted) copy first. */
async function hashFile(host: string, dataset: string, file: string): Promise<string> {
  const script = 'if [ "$(zfs get -H -o value mounted "$1")" != yes ]; then zfs mount "$1"; fi; sha256sum "$(zfs get -H -o value mountpoint "$1")/$2"';
  return (await lab.exec(host, ['sh', '-c', script, 'sh', dataset, file])).stdout.split(/\s+/)[0]!;
}

async function guids(host: string, dataset: string): Promise<Map<string, string>> {
  const out = await lab.zfs(host, ['get', '-H', '-p', '-r', '-o', 'name,value', 'guid', dataset]);
  return new Map(
    out
      .split('\n')
      .filter((line) => line.startsWith(`${dataset}@`))
      .map((line) => [line.split('\t')[0]!.slice(dataset.length + 1), line.split('\t')[1]!]),
  );
}

/** Both directions: the copy holds every snapshot of the source with the source's guid, and the same bytes. */
async function expectCopies(files: string[]): Promise<void> {
  for (const [source, dataset, peer, copy] of [
    ['sea16', 'tank/Sea', 'pkg16', 'backup/fleet/sea16/tank/Sea'],
    ['pkg16', 'backup/Pkg', 'sea16', 'tank/fleet/pkg16/backup/Pkg'],
  ] as const) {
    const mine = await guids(source, dataset);
    expect(mine.size).toBeGreaterThan(0);
    expect(await guids(peer, copy)).toEqual(mine);
    for (const file of files) expect(await hashFile(peer, copy, file), `${peer}:${copy}/${file}`).toBe(await hashFile(source, dataset, file));
  }
}

beforeAll(async () => {
  await ensurePackages();
  lintian = execa('lintian', ['--fail-on', 'error,warning', CONTROLLER_DEB, AGENT_DEB], { reject: false });
  lab = await labUp({ hosts: ['sea16:10.77.16.11:tank', 'pkg16:10.77.16.21:backup'], dir: LAB_DIR, noNode: ['sea16'] });
  dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-install-'));
  prefix = path.join(dir, 'prefix');
  debRoot = path.join(dir, 'root');
  await lab.zfs('sea16', ['create', 'tank/Sea']);
  await lab.zfs('pkg16', ['create', 'backup/Pkg']);
  await writeRandom('sea16', 'tank/Sea', 'a.bin', 3_000_000);
  await writeRandom('pkg16', 'backup/Pkg', 'a.bin', 1_000_000);
}, 600_000);

afterAll(async () => {
  await labDown(LAB_DIR);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('installed like a real tool', () => {
  test('npm install -g of the tarball puts fleet on the PATH, with no dependencies to fetch', async () => {
    await execa('npm', ['install', '-g', '--offline', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', prefix, TARBALL]);
    const installed = path.join(prefix, 'lib/node_modules/zfs-fleet');
    expect(existsSync(path.join(installed, 'node_modules'))).toBe(false);
    expect((await readdir(path.join(installed, 'agent'))).sort()).toEqual(['fleet-agent-linux-x64', 'fleet-agent.mjs']);
    expect((await execa(path.join(prefix, 'bin/fleet'), ['--version'])).stdout).toBe(VERSION);
  });

  test('its fleet agent install puts the single executable where there is no Node.js, once; backups both ways keep bytes and guids', async () => {
    const bin = path.join(prefix, 'bin/fleet');
    const config = await writeConfig('fleet.yaml');
    const install = await fleet(bin, config, ['agent', 'install', '--all']);
    expect(install.exitCode, install.stderr).toBe(0);
    const rows = Object.fromEntries(install.json.rows.map((row: any) => [row.host, row.result]));
    expect(rows.sea16).toMatchObject({ runtime: 'bundled', why: 'no Node.js on PATH', bundle: `/opt/zfs-fleet/lib/fleet-agent-${VERSION}-linux-x64`, uploaded: true, nodeVersion: expect.stringMatching(/^v22\./) });
    expect(rows.sea16.bytes).toBe(statSync(path.join(prefix, 'lib/node_modules/zfs-fleet/agent/fleet-agent-linux-x64')).size);
    expect(rows.pkg16).toMatchObject({ runtime: expect.stringMatching(/\/node$/), bundle: `/opt/zfs-fleet/lib/fleet-agent-${VERSION}.mjs`, uploaded: true });

    // Again: the same version is there (same sha256), so nothing is sent; the text says so.
    const again = await execa(bin, ['--config', config, 'agent', 'install', 'sea16'], { reject: false, env: { FLEET_CONFIG: '' } });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^OK\s+sea16\s+fleet-agent 0\.1\.0 single executable with Node\.js v22\.\S+ \(no Node\.js on PATH\): \/opt\/zfs-fleet\/lib\/fleet-agent-0\.1\.0-linux-x64 already there \(same sha256\), not sent again$/m);

    const backup = await fleet(bin, config, ['backup', '--all']);
    expect(backup.exitCode, JSON.stringify(backup.json) + backup.stderr).toBe(0);
    expect(backup.json.units.map((unit: any) => [unit.host, unit.peer, unit.status]).sort()).toEqual([
      ['pkg16', 'sea16', 'ok'],
      ['sea16', 'pkg16', 'ok'],
    ]);
    expect(backup.json.units.flatMap((unit: any) => unit.steps.map((step: any) => step.action))).toEqual(['full', 'full']);
    await expectCopies(['a.bin']);

    // The Grafana dashboard's every query names a series this run's textfile holds.
    const textfile = await readFile(path.join(dir, 'state/zfs-fleet.prom'), 'utf8');
    const exported = new Set(
      textfile
        .split('\n')
        .filter((line) => /^zfs_fleet_/.test(line))
        .map((line) => line.split(/[{ ]/)[0]),
    );
    const queries = dashboardQueries(JSON.parse(await readFile(path.join(REPO, 'deploy/grafana/zfs-fleet.json'), 'utf8')));
    for (const name of new Set(queries.flatMap(metricNamesIn))) expect(exported, name).toContain(name);
  });

  test('lintian finds no error or warning in either .deb', async () => {
    const result = await lintian;
    expect(
      result.stdout.split('\n').filter((line) => /^[EW]: /.test(line)),
      result.stdout,
    ).toEqual([]);
    expect(result.exitCode, result.stderr).toBe(0);
  }, 400_000);

  test('the .debs install with dpkg; their fleet and fleet-agent run an incremental backup both ways', async () => {
    await mkdir(path.join(debRoot, 'var/lib/dpkg/info'), { recursive: true });
    await mkdir(path.join(debRoot, 'var/lib/dpkg/updates'), { recursive: true });
    // This machine's package database, so Depends: (nodejs, zfs) is checked for real.
    await copyFile('/var/lib/dpkg/status', path.join(debRoot, 'var/lib/dpkg/status'));
    await execa('dpkg', ['--root', debRoot, '--force-not-root', '-i', CONTROLLER_DEB, AGENT_DEB]);
    const listed = (await execa('dpkg', ['--root', debRoot, '-L', 'zfs-fleet'])).stdout.split('\n');
    expect(listed).toEqual(
      expect.arrayContaining([
        '/usr/bin/fleet',
        '/lib/systemd/system/zfs-fleet.service',
        '/lib/systemd/system/zfs-fleet.timer',
        '/etc/zfs-fleet/fleet.yaml',
        '/usr/share/doc/zfs-fleet/README.md',
        '/usr/share/bash-completion/completions/fleet',
        '/usr/share/zsh/vendor-completions/_fleet',
      ]),
    );
    expect(await readFile(path.join(debRoot, 'lib/systemd/system/zfs-fleet.service'), 'utf8')).toMatch(/^ExecStart=\/usr\/bin\/fleet run --due/m);
    const bin = path.join(debRoot, 'usr/bin/fleet');
    expect((await execa(bin, ['--version'])).stdout).toBe(VERSION);

    // Each host sees the agent package's /opt/zfs-fleet (as if dpkg had run in its root).
    for (const host of ['sea16', 'pkg16']) {
      await lab.exec(host, ['mount', '--bind', path.join(debRoot, 'opt/zfs-fleet'), '/opt/zfs-fleet']);
      expect((await lab.exec(host, [path.join(debRoot, 'usr/bin/fleet-agent'), 'version'])).stdout.trim()).toBe(VERSION);
    }
    await writeRandom('sea16', 'tank/Sea', 'b.bin', 500_000);
    await writeRandom('pkg16', 'backup/Pkg', 'b.bin', 500_000);
    const config = await writeConfig('fleet-deb.yaml');
    const backup = await fleet(bin, config, ['backup', '--all']);
    expect(backup.exitCode, JSON.stringify(backup.json) + backup.stderr).toBe(0);
    expect(backup.json.units.flatMap((unit: any) => unit.steps.map((step: any) => step.action))).toEqual(['incremental', 'incremental']);
    await expectCopies(['a.bin', 'b.bin']);
  });
});
