import { FleetError, type TargetConfig } from '@zfs-fleet/protocol';
import { createDirectoryStorage } from './directory-storage.ts';
import type { ExportStorage, ExportStorageContext } from './export-storage.ts';
import { createS3Storage } from './s3-storage.ts';

/** The one place a target's type picks its backend. */
export function createExportStorage(target: TargetConfig, context: ExportStorageContext): ExportStorage {
  switch (target.type) {
    case 'directory':
      return createDirectoryStorage(target, context);
    case 's3':
      return createS3Storage(target, context);
    case 'rclone':
      throw new FleetError('TARGET_UNSUPPORTED', `export targets of type "${target.type}" are not built into this agent yet`, {
        hint: 'use a directory target, or update zfs-fleet on this host',
        details: { type: target.type },
      });
  }
}
