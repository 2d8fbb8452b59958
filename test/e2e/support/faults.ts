import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { lab } from './fleet.ts';

/** Polls `check` every 50 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Pids of a lab host's processes whose command line matches `pattern` (pgrep -f). Lab hosts
 * share one pid namespace: `--ns $$ --nslist net` keeps to this host's. Write the pattern with
 * a bracket (`zfs rec[v]`) so it does not match the shell running pgrep.
 */
export async function pidsOn(host: string, pattern: string): Promise<number[]> {
  const { stdout } = await lab().exec(host, ['sh', '-c', 'pgrep --ns $$ --nslist net -f "$1" || true', 'sh', pattern]);
  return stdout.split('\n').filter(Boolean).map(Number);
}

/** Sends `signal` to a lab host's processes matching `pattern`; how many there were. */
export async function signalOn(host: string, pattern: string, signal: 'KILL' | 'STOP' | 'CONT'): Promise<number> {
  const pids = await pidsOn(host, pattern);
  for (const pid of pids) process.kill(pid, `SIG${signal}`);
  return pids.length;
}

/** Whether a process is stopped (SIGSTOP): the state field of /proc/PID/stat is T. */
export async function isStopped(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return / T /.test(stat.slice(stat.lastIndexOf(')')));
}

/** The pid of a process's parent, from /proc. */
export async function parentOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** A process's command line, from /proc ('' once it is gone). */
export async function commandLineOf(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim();
}

/** The sshd process of the session whose command is the zfs recv running on a lab host: the one carrying the stream. */
export async function sshdCarryingTheStream(host: string): Promise<number> {
  let pid = (await pidsOn(host, 'zfs rec[v]'))[0];
  if (pid === undefined) throw new Error(`no zfs recv on ${host}`);
  while (!(await commandLineOf(pid)).startsWith('sshd')) {
    if (pid <= 1) throw new Error(`the zfs recv on ${host} has no sshd above it`);
    pid = await parentOf(pid);
  }
  return pid;
}

/**
 * An agent command whose `zfs` is `script` (sh, with the real zfs as $REAL_ZFS), first on the
 * agent's PATH, as a broken or hostile zfs would be. /tmp is shared by the lab's hosts and this process.
 */
export async function agentWithZfs(host: string, script: string): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'fleet-zfs-wrapper-'));
  const realZfs = (await lab().exec(host, ['sh', '-c', 'command -v zfs'])).stdout.trim();
  await writeFile(path.join(directory, 'zfs'), `#!/bin/sh\nREAL_ZFS=${realZfs}\n${script}\n`, { mode: 0o755 });
  onTestFinished(() => rm(directory, { recursive: true, force: true }));
  // sshd's default PATH for a session, behind the wrapper.
  return `env PATH=${directory}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ${lab().config().agent.command}`;
}
