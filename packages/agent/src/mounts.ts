import type { DatasetName } from '@zfs-fleet/protocol';
import { setProperties } from '@zfs-fleet/zfs';
import type { AgentContext } from './context.ts';

/**
 * Backup copies keep the source's `mountpoint` (a received property), and `recv -u` only
 * keeps them unmounted until the next `zfs mount -a`: at boot a backup host would mount every
 * source's `/srv/...` over its own. `canmount=noauto`, set locally, stops that on every zfs
 * (zfs-fuse has no `recv -o`); the received value stays, and a restore puts it back.
 * A failure only warns: the copy is safe, just not boot-proof (the next run tries again).
 */
export async function keepUnmounted(ctx: Pick<AgentContext, 'zfs' | 'logger'>, datasets: readonly DatasetName[]): Promise<boolean> {
  // One call for them all (zfs set takes many datasets, zfs-fuse's too): first backups stay O(1) in zfs calls.
  const result = await ctx.zfs.run(['set', 'canmount=noauto', ...datasets], { allowFailure: true });
  if (result.exitCode !== 0) ctx.logger.warn({ datasets, stderr: result.stderr.trim() }, 'could not set canmount=noauto on every backup copy');
  return result.exitCode === 0;
}

/** A restore's filesystems get the source's own `canmount` back, and those that should be mounted are. */
export async function restoreCanmount(ctx: Pick<AgentContext, 'zfs' | 'logger'>, entries: readonly { dataset: DatasetName; value: string }[]): Promise<void> {
  for (const { dataset, value } of entries) {
    await setProperties(ctx.zfs, dataset, { canmount: value });
    if (value !== 'on') continue;
    // Already mounted (or no mountpoint) is fine; the caller reports what zfs says afterwards.
    const mounted = await ctx.zfs.run(['mount', dataset], { allowFailure: true });
    if (mounted.exitCode !== 0) ctx.logger.debug({ dataset, stderr: mounted.stderr.trim() }, 'zfs mount after restore');
  }
}
