import { type BackupEntry, type ExportSettings, entrySettings, type FleetConfig, resolveExportSettings, type TargetConfig, targetsOf } from '@zfs-fleet/protocol';

/** One backup entry of one source host to one export target. */
export interface ExportUnit {
  host: string;
  entry: BackupEntry;
  target: string;
  targetConfig: TargetConfig;
  settings: ExportSettings;
}

/**
 * Every (host, entry, target) of the selection whose entry's sequence exports, in config order.
 * Pure; the config's validation guarantees every target exists and has recipients.
 */
export function listExportUnits(config: FleetConfig, selection: { hosts: readonly string[]; only?: (host: string, dataset: string) => boolean }): ExportUnit[] {
  return [...new Set(selection.hosts)].flatMap((host) =>
    (config.hosts[host]?.backups ?? [])
      .filter((entry) => selection.only?.(host, entry.dataset) ?? true)
      .flatMap((entry) =>
        targetsOf(config, entry).flatMap((target) => {
          const targetConfig = config.targets[target]!;
          const settings = resolveExportSettings(config.exports, targetConfig.exports, entry.exports);
          return 'missing' in settings ? [] : [{ host, entry, target, targetConfig, settings }];
        }),
      ),
  );
}

/** Whether an entry's sequence has this export step (`export` or `pruneExports`). */
export function runsStep(config: Pick<FleetConfig, 'defaults'>, entry: BackupEntry, step: 'export' | 'pruneExports'): boolean {
  return entrySettings(config, entry).sequence.includes(step);
}

/** What a target looks like on the wire to an agent: its name and where it is (no secret is in it; settings travel per call). */
export function targetRef(unit: Pick<ExportUnit, 'target' | 'targetConfig'>) {
  const { exports: _settings, ...config } = unit.targetConfig;
  return { name: unit.target, config };
}
