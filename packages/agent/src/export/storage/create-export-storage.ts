import { FleetError, type TargetConfig } from '@zfs-fleet/protocol';
import { createDirectoryStorage } from './directory-storage.ts';
import type { ExportStorage, ExportStorageContext } from './export-storage.ts';
import { createRcloneStorage } from './rclone-storage.ts';
import { createS3Storage } from './s3-storage.ts';

/** The one place a target's type picks its backend. */
export function createExportStorage(target: TargetConfig, context: ExportStorageContext): ExportStorage {
  switch (target.type) {
    case 'directory':
      return createDirectoryStorage(target, context);
    case 's3':
      return createS3Storage(target, context);
    case 'rclone':
      return createRcloneStorage(target, context);
    default: {
      // A controller newer than this agent may know types the agent does not.
      const type = (target as { type: string }).type;
      throw new FleetError('TARGET_UNSUPPORTED', `export targets of type "${type}" are not built into this agent yet`, {
        hint: 'use a directory target, or update zfs-fleet on this host',
        details: { type },
      });
    }
  }
}
