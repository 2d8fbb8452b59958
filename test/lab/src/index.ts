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
  /** Runs a command on a host; rejects on a non-zero exit unless `reject: false`. */
  exec(host: string, argv: string[], options?: { input?: string | Buffer; reject?: boolean }): Promise<ExecResult>;
  /** Runs `zfs ARGV` on a host and returns its stdout; rejects with zfs's stderr. */
  zfs(host: string, argv: string[]): Promise<string>;
  /** The lab's ssh and agent settings, with paths made absolute. */
  config(): LabFleetConfig;
}

/** Brings up hosts given as `name:ip:pool`, in `dir` (default `.lab/e2e` in the repository). */
export async function labUp(options: { hosts: string[]; dir?: string }): Promise<Lab> {
  const dir = path.resolve(options.dir ?? path.join(REPO, '.lab/e2e'));
  if (isRunning(dir)) {
    throw new Error(`A lab is already running in ${dir} (another test run?). Stop it with: bash test/lab/lab.sh down ${dir}`);
  }
  // Whatever a crashed run left behind goes first.
  await labDown(dir);
  await execa('bash', [LAB_SCRIPT, 'up', dir, ...options.hosts], { stdio: ['ignore', 'inherit', 'inherit'] });
  return openLab(dir);
}

export async function labDown(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  await execa('bash', [LAB_SCRIPT, 'down', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
}

export function openLab(dir: string): Lab {
  const description = JSON.parse(readFileSync(path.join(dir, 'lab.json'), 'utf8')) as { hosts: LabHost[] };
  const configPath = path.join(dir, 'fleet.yaml');

  const exec: Lab['exec'] = async (host, argv, options = {}) => {
    const result = await execa('bash', [LAB_SCRIPT, 'exec', dir, host, '--', ...argv], {
      reject: false,
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    });
    const outcome = { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
    if (outcome.exitCode !== 0 && options.reject !== false) {
      throw new Error(`${host}: ${argv.join(' ')} exited ${outcome.exitCode}: ${outcome.stderr.trim()}`);
    }
    return outcome;
  };

  return {
    dir,
    hosts: description.hosts,
    configPath,
    exec,
    zfs: async (host, argv) => (await exec(host, ['zfs', ...argv])).stdout,
    config() {
      const parsed = parse(readFileSync(configPath, 'utf8')) as LabFleetConfig;
      return {
        ssh: { ...parsed.ssh, identityFile: path.resolve(dir, parsed.ssh.identityFile), knownHosts: path.resolve(dir, parsed.ssh.knownHosts) },
        agent: parsed.agent,
      };
    },
  };
}

/** Whether any daemon of a lab in `dir` is still alive. */
function isRunning(dir: string): boolean {
  const hostsDir = path.join(dir, 'hosts');
  if (!existsSync(hostsDir)) return false;
  return readdirSync(hostsDir).some((host) =>
    ['zfs-fuse.pid', 'sshd.pid'].some((file) => {
      const pidFile = path.join(hostsDir, host, file);
      if (!existsSync(pidFile)) return false;
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 0);
        return true;
      } catch {
        return false;
      }
    }),
  );
}
