import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FleetError, type DatasetName, type LockHolder, type LockResult } from '@zfs-fleet/protocol';

/**
 * Under /run: a tmpfs on systemd hosts, so a reboot clears every lock; the boot id in each
 * lock covers hosts where it is not.
 */
export const DEFAULT_LOCK_DIR = '/run/zfs-fleet/locks';
const POLL_MS = 250;

/** What a lock file says: the controller's run that asked, and the agent process that holds it. */
interface LockRecord {
  dataset: string;
  holder: LockHolder;
  agentPid: number;
  /** The agent's start time in clock ticks since boot (/proc/PID/stat): a reused pid is another process. */
  agentStart?: string;
  bootId?: string;
  acquiredAt: string;
}

export interface EntryLocks {
  /** Takes each entry's lock, waiting up to its waitMs for a live holder; one result per entry, never throws for one. */
  acquire(holder: LockHolder, entries: ReadonlyArray<{ dataset: DatasetName; waitMs: number }>): Promise<LockResult[]>;
  release(datasets: readonly string[]): Promise<void>;
  /** On the way out of the process (exit, signals): synchronous, our own locks only. */
  releaseAllSync(): void;
  held(): string[];
}

/**
 * Per-host, per-entry locks held by this agent process. A second run of the same entry (another
 * controller, a manual backup, a prune) finds the lock and is refused with LOCKED naming the
 * holder, or waits. A lock whose agent is gone (killed, host rebooted) is stale: taken over and
 * reported. The agent releases its locks when the controller releases them, when the controller
 * hangs up (stdin ends), and on exit.
 */
export function createEntryLocks(options: { dir?: string } = {}): EntryLocks {
  const dir = options.dir ?? process.env['FLEET_AGENT_LOCK_DIR'] ?? DEFAULT_LOCK_DIR;
  const mine = new Map<string, string>(); // file → the exact text we wrote
  const fileOf = (dataset: string) => path.join(dir, `${encodeURIComponent(dataset)}.lock`);

  async function acquireOne(holder: LockHolder, dataset: DatasetName, waitMs: number): Promise<LockResult> {
    const file = fileOf(dataset);
    if (mine.has(file)) return { dataset, acquired: true };
    const record: LockRecord = { dataset, holder, agentPid: process.pid, ...processIdentity(process.pid), acquiredAt: new Date().toISOString() };
    const text = `${JSON.stringify(record)}\n`;
    const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(temporary, text, { mode: 0o600 });
    const deadline = Date.now() + waitMs;
    let takenOver: LockRecord | undefined;
    try {
      for (;;) {
        try {
          await link(temporary, file);
          mine.set(file, text);
          return { dataset, acquired: true, ...(takenOver ? { takenOver: { ...takenOver.holder, agentPid: takenOver.agentPid } } : {}) };
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        const seen = await readFile(file, 'utf8').catch(() => undefined);
        if (seen === undefined) continue; // released meanwhile
        const current = parseRecord(seen);
        if (current && isAlive(current)) {
          if (Date.now() >= deadline) return { dataset, acquired: false, error: lockedError(dataset, current, waitMs).toShape() };
          await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
          continue;
        }
        if (await takeOverStale(file, seen, temporary)) takenOver = current ?? takenOver;
      }
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
  }

  return {
    acquire: async (holder, entries) => {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      return Promise.all(entries.map((entry) => acquireOne(holder, entry.dataset, entry.waitMs)));
    },
    release: async (datasets) => {
      for (const dataset of datasets) {
        const file = fileOf(dataset);
        const text = mine.get(file);
        if (text === undefined) continue;
        mine.delete(file);
        // Never remove a lock someone took over after us.
        if ((await readFile(file, 'utf8').catch(() => '')) === text) await unlink(file).catch(() => undefined);
      }
    },
    releaseAllSync: () => {
      for (const [file, text] of mine) {
        try {
          if (readFileSync(file, 'utf8') === text) unlinkSync(file);
        } catch {
          // gone already
        }
      }
      mine.clear();
    },
    held: () => [...mine.values()].map((text) => parseRecord(text)?.dataset ?? '?'),
  };
}

function lockedError(dataset: string, current: LockRecord, waitMs: number): FleetError {
  const { holder } = current;
  return new FleetError(
    'LOCKED',
    `"${dataset}" on ${os.hostname()} is locked by a run of controller host "${holder.controllerHost}" (pid ${holder.controllerPid}, "fleet ${holder.command}" started ${holder.startedAt})${waitMs > 0 ? `; waited ${Math.round(waitMs / 1000)}s` : ''}.`,
    {
      hint: 'Wait for that run to finish, or give the entry a lockWait: to wait for it. A lock whose holder died is taken over by itself.',
      details: { dataset, host: os.hostname(), holder, agentPid: current.agentPid },
    },
  );
}

function parseRecord(text: string): LockRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockRecord>;
    if (!Number.isInteger(value.agentPid) || !value.holder) return undefined;
    return value as LockRecord;
  } catch {
    return undefined;
  }
}

/** The holding agent is still the same running process on this boot. */
function isAlive(record: Pick<LockRecord, 'agentPid' | 'agentStart' | 'bootId'>): boolean {
  const now = processIdentity(record.agentPid);
  if (record.bootId && now.bootId && record.bootId !== now.bootId) return false;
  if (record.agentStart && now.agentStart !== undefined) return record.agentStart === now.agentStart;
  try {
    process.kill(record.agentPid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Boot id and a process's start time, where /proc has them; a process that is gone has no start time. */
function processIdentity(pid: number): { agentStart?: string; bootId?: string } {
  const identity: { agentStart?: string; bootId?: string } = {};
  try {
    identity.bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return identity;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Field 22 of stat is the start time; fields[0] here is field 3 (state). A zombie is gone.
    identity.agentStart = fields[0] === 'Z' ? 'zombie' : fields[19]!;
  } catch {
    identity.agentStart = 'gone';
  }
  return identity;
}

/**
 * Removes a stale lock under a short-lived guard, so that of two agents that both found it
 * stale only one removes it, and never the fresh lock the other took meanwhile.
 */
async function takeOverStale(file: string, seen: string, temporary: string): Promise<boolean> {
  const guard = `${file}.takeover`;
  try {
    await link(temporary, guard);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const other = parseRecord(await readFile(guard, 'utf8').catch(() => ''));
    if (!other || !isAlive(other)) await unlink(guard).catch(() => undefined);
    await sleep(5 + Math.random() * 20);
    return false;
  }
  try {
    if ((await readFile(file, 'utf8').catch(() => undefined)) !== seen) return false;
    await unlink(file).catch(() => undefined);
    return true;
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
