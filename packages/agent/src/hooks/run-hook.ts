import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { HookResult } from '@zfs-fleet/protocol';

/** What the log and the report keep of a hook's output: its last bytes. */
export const HOOK_OUTPUT_TAIL_BYTES = 4096;
/** Between SIGTERM to the hook's process group and SIGKILL. */
const KILL_GRACE_MS = 2_000;

export interface RunHookOptions {
  env: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** For tests; the agent always uses sh. */
  shell?: string;
}

/**
 * Runs one administrator-written command through `sh -c`: the one place zfs-fleet means to use a
 * shell. It runs in a process group of its own, so that at the timeout (or cancellation) the
 * whole group is killed, children included, and anything the command left running in its group
 * when it exits is killed too: a hook leaves no process behind.
 */
export async function runHook(command: string, options: RunHookOptions): Promise<HookResult> {
  const started = performance.now();
  const child = spawn(options.shell ?? 'sh', ['-c', command], {
    cwd: '/',
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const stdout = createTail();
  const stderr = createTail();
  child.stdout.on('data', stdout.push);
  child.stderr.on('data', stderr.push);

  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is gone already.
    }
  };
  const stop = () => {
    killGroup('SIGTERM');
    killTimer ??= setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, options.timeoutMs);
  options.signal?.addEventListener('abort', stop, { once: true });

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, spawnError: error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  options.signal?.removeEventListener('abort', stop);
  // Whatever the command left in its group (a `sleep &`) goes with it.
  if (child.pid !== undefined) {
    killGroup('SIGKILL');
    await waitForGroupGone(child.pid);
  }
  if (killTimer) clearTimeout(killTimer);
  child.stdout.destroy();
  child.stderr.destroy();
  if (exit.spawnError) stderr.push(Buffer.from(`could not start ${options.shell ?? 'sh'}: ${exit.spawnError.message}`));
  return {
    command,
    exitCode: exit.code,
    ...(exit.signal ? { signal: exit.signal } : {}),
    timedOut,
    durationMs: Math.round(performance.now() - started),
    stdoutTail: stdout.text(),
    stderrTail: stderr.text(),
  };
}

/** Whether a hook result is a success: exit 0, in time. */
export function isHookSuccess(result: HookResult): boolean {
  return result.exitCode === 0 && !result.timedOut;
}

async function waitForGroupGone(pgid: number): Promise<void> {
  for (let attempt = 0; attempt < 100 && groupHasLiveMembers(pgid); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Members of the group that are not zombies (a killed orphan stays a zombie until init reaps it). */
function groupHasLiveMembers(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name));
  } catch {
    // No /proc: ask the kernel whether the group exists at all.
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  return entries.some((pid) => {
    try {
      // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ")".
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(pgrp) === pgid && state !== 'Z';
    } catch {
      return false;
    }
  });
}

function createTail() {
  let chunks: Buffer[] = [];
  let size = 0;
  let dropped = false;
  return {
    push: (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > HOOK_OUTPUT_TAIL_BYTES * 2) {
        const joined = Buffer.concat(chunks);
        chunks = [joined.subarray(joined.length - HOOK_OUTPUT_TAIL_BYTES)];
        size = HOOK_OUTPUT_TAIL_BYTES;
        dropped = true;
      }
    },
    text: () => {
      const joined = Buffer.concat(chunks);
      const tail = joined.subarray(Math.max(0, joined.length - HOOK_OUTPUT_TAIL_BYTES));
      return `${dropped || tail.length < joined.length ? '…' : ''}${tail.toString('utf8')}`;
    },
  };
}
