import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pino from 'pino';
import { FleetError } from '@zfs-fleet/protocol';

export const LOCK_FILE = 'lock';

/** What the lock file says about its holder: `{"pid":..,"command":..,"since":..,"bootId":..}`. */
export interface LockHolder {
  pid: number;
  command: string;
  since: string;
  /** Linux's boot id: a pid recorded before a reboot names some other process now. */
  bootId?: string;
}

/** Releases the lock; safe to call twice. */
export type ReleaseLock = () => Promise<void>;

/**
 * Takes the state directory's lock: one controller run at a time, so two runs never send the
 * same dataset at once nor interleave their journal records. A lock whose holder is gone (a
 * crash, a reboot) is taken over; a live holder makes this throw `LOCKED` naming its pid.
 *
 * The lock file appears with its content at once (written under a temporary name, then
 * hard-linked into place; `link` fails if the name exists), so nobody ever reads a half-written
 * lock and mistakes it for a stale one. No flock(2): Node.js has none without a native module.
 */
export interface StateLockOptions {
  /** Told of a lock left by a run that is gone (killed, a reboot), before it is taken over. */
  onStale?(holder: LockHolder | undefined, file: string): void;
}

export async function acquireStateLock(stateDir: string, command: string, options: StateLockOptions = {}): Promise<ReleaseLock> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, LOCK_FILE);
  const mine: LockHolder = { pid: process.pid, command, since: new Date().toISOString(), ...bootIdField() };
  const text = `${JSON.stringify(mine)}\n`;
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, text, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      try {
        await link(temporary, file);
        let released = false;
        return async () => {
          if (released) return;
          released = true;
          // Only our own lock: never remove one another run took over after us.
          if ((await readFile(file, 'utf8').catch(() => '')) === text) await unlink(file).catch(() => undefined);
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const seen = await readFile(file, 'utf8').catch(() => undefined);
      if (seen === undefined) continue; // released meanwhile
      const holder = parseLockHolder(seen);
      if (holder && isHolderAlive(holder)) {
        throw new FleetError('LOCKED', `Another zfs-fleet run (pid ${holder.pid}, "fleet ${holder.command}" since ${holder.since}) holds the lock "${file}".`, {
          hint: `Wait for it to finish; runs never overlap. If pid ${holder.pid} is not a zfs-fleet controller, remove "${file}".`,
          details: { pid: holder.pid, command: holder.command, since: holder.since, file },
        });
      }
      options.onStale?.(holder, file);
      await takeOverStale(file, seen, temporary);
    }
    throw new FleetError('LOCKED', `Could not take the lock "${file}": other runs keep taking it.`, { hint: 'Try again; runs never overlap.', details: { file } });
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/** Runs `fn` holding the state directory's lock, and releases it however `fn` ends. */
export async function withStateLock<T>(stateDir: string, command: string, fn: () => Promise<T>, options: StateLockOptions = {}): Promise<T> {
  const release = await acquireStateLock(stateDir, command, options);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** Parses a lock file; undefined for one that is garbled (and so cannot name a live holder). */
export function parseLockHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isInteger(value.pid) || (value.pid ?? 0) <= 0) return undefined;
    return { pid: value.pid!, command: String(value.command ?? '?'), since: String(value.since ?? '?'), ...(typeof value.bootId === 'string' ? { bootId: value.bootId } : {}) };
  } catch {
    return undefined;
  }
}

function isHolderAlive(holder: LockHolder): boolean {
  const bootId = currentBootId();
  if (holder.bootId && bootId && holder.bootId !== bootId) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes a stale lock, holding a short-lived takeover guard so that of two controllers that
 * both found it stale, only one removes it, and never the fresh lock the other took meanwhile.
 */
async function takeOverStale(file: string, seen: string, mine: string): Promise<void> {
  const guard = `${file}.takeover`;
  try {
    await link(mine, guard);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Someone else is taking over; a guard whose holder died mid-takeover is cleared.
    const holder = parseLockHolder(await readFile(guard, 'utf8').catch(() => ''));
    if (!holder || !isHolderAlive(holder)) await unlink(guard).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
    return;
  }
  try {
    if ((await readFile(file, 'utf8').catch(() => undefined)) === seen) await unlink(file).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

let bootId: string | null | undefined;
function currentBootId(): string | undefined {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      bootId = null;
    }
  }
  return bootId ?? undefined;
}

function bootIdField(): { bootId?: string } {
  const id = currentBootId();
  return id ? { bootId: id } : {};
}

/** The warning a run logs when it takes over the lock of a run that is gone: what it found. */
export function warnOfStaleLock(logger: Pick<pino.Logger, 'warn'>): StateLockOptions {
  return {
    onStale: (holder, file) => logger.warn({ file, ...(holder ? { holder } : {}) }, holder ? `took over the lock of pid ${holder.pid} ("fleet ${holder.command}" since ${holder.since}), which is gone` : 'took over a garbled lock file'),
  };
}
