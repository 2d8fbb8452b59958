import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { FleetError } from '@zfs-fleet/protocol';

/**
 * Takes the state directory's lock: one controller run at a time, so two runs never send
 * the same dataset at once. The lock file holds the holder's pid; a lock whose process is
 * gone (a crash, a reboot) is taken over.
 */
export async function acquireStateLock(stateDir: string, command: string): Promise<() => Promise<void>> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, 'lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.write(`${process.pid} ${command} ${new Date().toISOString()}\n`);
      await handle.close();
      return () => unlink(file).catch(() => undefined);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const [pidText, holderCommand, since] = (await readFile(file, 'utf8').catch(() => '')).trim().split(' ');
      const pid = Number(pidText);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new FleetError('LOCKED', `Another zfs-fleet run (pid ${pid}, "fleet ${holderCommand ?? '?'}" since ${since ?? '?'}) holds ${file}.`, {
          hint: 'Wait for it to finish; runs never overlap.',
          details: { pid, file },
        });
      }
      // The holder is gone: the lock is stale.
      await unlink(file).catch(() => undefined);
    }
  }
  throw new FleetError('LOCKED', `Could not take ${file}: another run keeps taking it.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
