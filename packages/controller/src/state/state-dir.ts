import os from 'node:os';
import path from 'node:path';
import type { FleetConfig } from '@zfs-fleet/protocol';

/** `stateDir` from the config, else /var/lib/zfs-fleet for root, else ~/.local/state/zfs-fleet. */
export function stateDirOf(config: FleetConfig): string {
  if (config.stateDir) return config.stateDir;
  return process.getuid?.() === 0 ? '/var/lib/zfs-fleet' : path.join(os.homedir(), '.local/state/zfs-fleet');
}
