import { FleetError, type FleetConfig } from '@zfs-fleet/protocol';

/** `--all` means every host with backups; otherwise the named hosts, each of which must exist. */
export function selectSourceHosts(config: FleetConfig, names: readonly string[], all: boolean): string[] {
  if (all && names.length > 0) throw new FleetError('USAGE', 'Give either --all or host names, not both.');
  if (all) return Object.entries(config.hosts).filter(([, host]) => host.backups.length > 0).map(([name]) => name);
  if (names.length === 0) throw new FleetError('USAGE', 'Name the hosts to back up, or pass --all.', { hint: 'For example: fleet backup --all' });
  for (const name of names) {
    if (!config.hosts[name]) throw new FleetError('USAGE', `Host "${name}" is not in the config.`, { hint: `Known hosts: ${Object.keys(config.hosts).join(', ')}.` });
  }
  return [...names];
}

/** `--all` (or, with `allByDefault`, no names) means every host in the config; otherwise the named hosts, each of which must exist. */
export function selectHosts(config: FleetConfig, names: readonly string[], options: { all: boolean; allByDefault?: boolean; example: string }): string[] {
  if (options.all && names.length > 0) throw new FleetError('USAGE', 'Give either --all or host names, not both.');
  if (options.all || (names.length === 0 && options.allByDefault)) return Object.keys(config.hosts);
  if (names.length === 0) throw new FleetError('USAGE', 'Name the hosts, or pass --all.', { hint: `For example: ${options.example}` });
  for (const name of names) {
    if (!config.hosts[name]) throw new FleetError('USAGE', `Host "${name}" is not in the config.`, { hint: `Known hosts: ${Object.keys(config.hosts).join(', ')}.` });
  }
  return [...new Set(names)];
}
