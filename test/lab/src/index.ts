import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parse } from 'yaml';

const LAB_SCRIPT = fileURLToPath(new URL('../lab.sh', import.meta.url));
const REPO = path.resolve(path.dirname(LAB_SCRIPT), '../..');

export interface LabHost {
  name: string;
  address: string;
  pool: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface LabFleetConfig {
  ssh: { user: string; identityFile: string; knownHosts: string };
  agent: { command: string };
}

/** A running lab: N simulated hosts (see lab.sh), reachable by name. */
export interface Lab {
  dir: string;
  hosts: LabHost[];
  /** The fleet.yaml lab.sh wrote for these hosts. */
  configPath: string;
  /** Runs a command on a host; rejects with a {@link LabCommandError} on a non-zero exit unless `reject: false`. */
  exec(host: string, argv: string[], options?: { input?: string | Buffer; reject?: boolean }): Promise<ExecResult>;
  /** Runs `zfs ARGV` on a host and returns its stdout; rejects with zfs's stderr. */
  zfs(host: string, argv: string[]): Promise<string>;
  /** The lab's ssh and agent settings, with paths made absolute. */
  config(): LabFleetConfig;
}

/** A command run on a lab host exited non-zero; carries the same fields as a result. */
export class LabCommandError extends Error {
  override name = 'LabCommandError';
  constructor(
    readonly host: string,
    readonly argv: string[],
    readonly result: ExecResult,
  ) {
    super(`${host}: '${argv.join(' ')}' exited ${result.exitCode}: ${result.stderr.trim() || '(no stderr)'}`);
  }
}

/**
 * Brings up hosts given as `name:ip:pool` in `dir` (default `.lab/e2e` in the repository),
 * tearing down whatever lab was there first. A failed `up` is torn down before rejecting.
 */
export async function labUp(options: { hosts: string[]; dir?: string; bare?: boolean; noNode?: string[] }): Promise<Lab> {
  const dir = path.resolve(options.dir ?? path.join(REPO, '.lab/e2e'));
  if (isRunning(dir)) {
    throw new Error(`A lab is already running in ${dir} (another test run?). Stop it with: bash test/lab/lab.sh down ${dir}`);
  }
  // Whatever a crashed run left behind goes first.
  await labDown(dir);
  try {
    await execa('bash', [LAB_SCRIPT, 'up', dir, ...options.hosts], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...(options.bare ? { LAB_BARE: '1' } : {}), ...(options.noNode ? { LAB_NO_NODE: options.noNode.join(' ') } : {}) } });
  } catch (error) {
    await labDown(dir).catch(() => undefined);
    throw new Error(`lab: 'up ${options.hosts.join(' ')}' in '${dir}' failed (its output is above)`, { cause: error });
  }
  return openLab(dir);
}

/** Stops every daemon of the lab in `dir` and removes it; nothing to do when `dir` is gone. */
export async function labDown(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  await execa('bash', [LAB_SCRIPT, 'down', path.resolve(dir)], { stdio: ['ignore', 'inherit', 'inherit'] });
}

interface LabDescription {
  hosts: Array<LabHost & { netns?: string; mountNs?: string; utsNs?: string }>;
}

/** The lab lab.sh brought up in `dir`, from its lab.json. */
export function openLab(dir: string): Lab {
  dir = path.resolve(dir);
  const file = path.join(dir, 'lab.json');
  if (!existsSync(file)) throw new Error(`lab: no lab in '${dir}' (no lab.json); bring one up with 'bash ${LAB_SCRIPT} up ${dir} NAME:IP:POOL...'`);
  const description = JSON.parse(readFileSync(file, 'utf8')) as LabDescription;
  const configPath = path.join(dir, 'fleet.yaml');

  // nsenter directly (as lab.sh exec does): no shell in between, so argv and exit codes pass unchanged.
  const enter = new Map(
    description.hosts.map((host) => {
      const hostDir = path.join(dir, 'hosts', host.name);
      return [host.name, [`--net=/run/netns/${host.netns ?? `fleet-${host.name}`}`, `--mount=${host.mountNs ?? path.join(hostDir, 'ns/mnt')}`, `--uts=${host.utsNs ?? path.join(hostDir, 'ns/uts')}`]];
    }),
  );

  const exec: Lab['exec'] = async (host, argv, options = {}) => {
    const namespaces = enter.get(host);
    if (!namespaces) throw new Error(`lab: no host '${host}' in '${dir}' (hosts: ${[...enter.keys()].join(', ')})`);
    const result = await execa('nsenter', [...namespaces, '--', ...argv], {
      reject: false,
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    });
    const outcome = { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
    if (outcome.exitCode !== 0 && options.reject !== false) throw new LabCommandError(host, argv, outcome);
    return outcome;
  };

  return {
    dir,
    hosts: description.hosts.map(({ name, address, pool }) => ({ name, address, pool })),
    configPath,
    exec,
    async zfs(host, argv) {
      // zfs-fuse says "dataset is busy" for a moment after a dataset was written or unmounted
      // (lab-notes.md); that passes, so the lab retries it rather than every test.
      for (let attempt = 0; ; attempt += 1) {
        const result = await exec(host, ['zfs', ...argv], { reject: false });
        if (result.exitCode === 0) return result.stdout;
        if (attempt >= 40 || !/dataset is busy/.test(result.stderr)) throw new LabCommandError(host, ['zfs', ...argv], result);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    config() {
      const parsed = parse(readFileSync(configPath, 'utf8')) as LabFleetConfig;
      return {
        ssh: { ...parsed.ssh, identityFile: path.resolve(dir, parsed.ssh.identityFile), knownHosts: path.resolve(dir, parsed.ssh.knownHosts) },
        agent: parsed.agent,
      };
    },
  };
}

/** Whether a daemon of a lab in `dir` is still alive: then another run owns it. */
function isRunning(dir: string): boolean {
  const hostsDir = path.join(dir, 'hosts');
  if (!existsSync(hostsDir)) return false;
  return readdirSync(hostsDir).some((host) =>
    ['zfs-fuse.pid', 'sshd.pid'].some((file) => {
      const pidFile = path.join(hostsDir, host, file);
      if (!existsSync(pidFile)) return false;
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      // A zombie still answers kill(0); only a live process counts.
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '';
      } catch {
        return false;
      }
      return !stat.startsWith('Z');
    }),
  );
}
export * from './openzfs.ts';
export * from './s3-server.ts';
export type { ProvidedS3Server } from './s3-global-setup.ts';
