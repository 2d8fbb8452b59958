import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { shellQuote } from '@zfs-fleet/protocol';
import { LabCommandError, type ExecResult } from './index.ts';

const VM_SCRIPT = fileURLToPath(new URL('../openzfs/vm.sh', import.meta.url));
const BUILD_SCRIPT = fileURLToPath(new URL('../openzfs/build-image.sh', import.meta.url));

/** What vm.sh wrote about a running OpenZFS guest. */
export interface VmDescription {
  pid: number;
  port: number;
  image: string;
  /** Root's key in the guest (authorized there). */
  keyFile: string;
  /** The guest's ed25519 host key, "ssh-ed25519 AAAA...". */
  hostKey: string;
  /** 10.77.0.1 when the lab bridge existed at boot: then zfs-fuse lab hosts reach the guest at it. */
  bridgeAddress: string | null;
  bootSeconds: number;
}

/** A running OpenZFS 2.x guest (see test/lab/openzfs/vm.sh). */
export interface OpenZfsVm extends VmDescription {
  dir: string;
  /** Runs argv in the guest (each word quoted); rejects on a non-zero exit unless `reject: false`. */
  exec(argv: string[], options?: { input?: string | Buffer; reject?: boolean; timeoutMs?: number }): Promise<ExecResult>;
  /** Runs a shell script in the guest. */
  sh(script: string, options?: { reject?: boolean; timeoutMs?: number }): Promise<ExecResult>;
  /** `zfs ARGV` in the guest; its stdout. */
  zfs(argv: string[]): Promise<string>;
  /** Starts a shell script in the guest and returns at once: its stdin stays open (a logged-in session ready to act). */
  spawn(script: string): ResultPromise<{ stdin: 'pipe'; reject: false }>;
}

/** Builds the image when it is missing (about 18 min on 2 busy cores) and prints its directory. */
export async function ensureOpenZfsImage(): Promise<string> {
  const result = await execa('bash', [BUILD_SCRIPT], { stdin: 'ignore', stdout: 'pipe', stderr: 'inherit' });
  return result.stdout.trim();
}

/** Boots a guest with its state in `dir` (anything there is stopped first) and waits for its sshd. */
export async function vmUp(options: { dir: string; port: number; image?: string }): Promise<OpenZfsVm> {
  await vmDown(options.dir);
  await execa('bash', [VM_SCRIPT, 'up', path.resolve(options.dir), String(options.port), ...(options.image ? [options.image] : [])], { stdio: ['ignore', 'inherit', 'inherit'] });
  return openVm(options.dir);
}

/** Stops the guest started in `dir` (by its pid) and removes `dir`. */
export async function vmDown(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  await execa('bash', [VM_SCRIPT, 'down', path.resolve(dir)], { stdio: ['ignore', 'inherit', 'inherit'] });
}

export function openVm(dir: string): OpenZfsVm {
  dir = path.resolve(dir);
  const description = JSON.parse(readFileSync(path.join(dir, 'vm.json'), 'utf8')) as VmDescription;
  const sshArgs = ['-i', description.keyFile, '-p', String(description.port), '-o', 'UserKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes', 'root@127.0.0.1'];
  const run = async (command: string, argv: string[], options: { input?: string | Buffer; reject?: boolean; timeoutMs?: number }) => {
    const result = await execa('ssh', [...sshArgs, command], {
      reject: false,
      timeout: options.timeoutMs ?? 600_000,
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    });
    const outcome = { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
    if (outcome.exitCode !== 0 && options.reject !== false) throw new LabCommandError('openzfs-vm', argv, outcome);
    return outcome;
  };
  return {
    ...description,
    dir,
    exec: (argv, options = {}) => run(argv.map(shellQuote).join(' '), argv, options),
    sh: (script, options = {}) => run(script, ['sh', '-c', script], options),
    spawn: (script) => execa('ssh', [...sshArgs, script], { stdin: 'pipe', reject: false }),
    async zfs(argv) {
      return (await run(['zfs', ...argv].map(shellQuote).join(' '), ['zfs', ...argv], {})).stdout;
    },
  };
}
