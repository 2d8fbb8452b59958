import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { FleetError } from '@zfs-fleet/protocol';

/**
 * Where `age -d -i PATH` reads the identity from: a FIFO in a 0700 directory, so the secret
 * never lands on disk nor in argv. (Node's extra stdio fds are socketpairs, which `/dev/fd/N`
 * cannot open: ENXIO.) Each `feed` hands it to one reader.
 */
export async function createIdentityFifo(identity: string): Promise<{ path: string; feed(reader: { exitCode: number | null }): Promise<void>; remove(): Promise<void> }> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'zfs-fleet-identity-'));
  const fifo = path.join(directory, 'identity');
  await promisify(execFile)('mkfifo', ['-m', '0600', fifo]);
  return {
    path: fifo,
    async feed(reader) {
      // Non-blocking: ENXIO until the reader has opened its end; a reader that died never blocks us.
      for (let attempt = 0; ; attempt += 1) {
        const handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENXIO') throw error;
          return undefined;
        });
        if (handle) {
          try {
            await handle.write(identity);
          } finally {
            await handle.close();
          }
          return;
        }
        if (reader.exitCode !== null || attempt > 1000) throw new FleetError('STREAM_FAILED', 'age exited before it read the identity');
        await sleep(5);
      }
    },
    async remove() {
      await rm(directory, { recursive: true, force: true });
    },
  };
}
