import { FleetError } from '@zfs-fleet/protocol';
import type { ZfsExec } from './exec.ts';

export interface PoolSpace {
  availableBytes: number;
  usedBytes: number;
}

export function poolSpaceArgs(pool: string): string[] {
  return ['get', '-H', '-p', '-o', 'property,value', 'available,used', pool];
}

/** `zfs get -Hp -o property,value available,used POOL` → bytes; undefined when it says something else. */
export function parsePoolSpace(stdout: string): PoolSpace | undefined {
  const values = new Map(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t') as [string, string]),
  );
  const availableBytes = Number(values.get('available'));
  const usedBytes = Number(values.get('used'));
  return Number.isFinite(availableBytes) && Number.isFinite(usedBytes) && values.has('available') && values.has('used') ? { availableBytes, usedBytes } : undefined;
}

/** What a pool has left and has used, one zfs call. */
export async function getPoolSpace(zfs: ZfsExec, pool: string): Promise<PoolSpace> {
  const argv = poolSpaceArgs(pool);
  const { stdout } = await zfs.run(argv);
  const space = parsePoolSpace(stdout);
  if (!space) throw new FleetError('ZFS_FAILED', `zfs ${argv.join(' ')} printed no available and used bytes: "${stdout.trim().slice(0, 200)}"`);
  return space;
}
