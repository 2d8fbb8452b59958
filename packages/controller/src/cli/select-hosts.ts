import { FleetError, type FleetConfig } from '@zfs-fleet/protocol';

export interface SelectHostsOptions {
  /** `--all` was given. */
  all: boolean;
  /** No names means all hosts, as with `--all` (`fleet doctor`). */
  allByDefault?: boolean;
  /** `--all` means the hosts that have backups (source hosts), not every host. */
  sources?: boolean;
  /** The command line the usage error suggests, e.g. `fleet backup --all`. */
  example: string;
}

/**
 * The hosts a command works on: with `--all` every host (or every source host), otherwise the
 * named hosts, each of which must exist, each once: `fleet backup src1 src1` backs src1 up once.
 */
export function selectHosts(config: FleetConfig, names: readonly string[], options: SelectHostsOptions): string[] {
  if (options.all && names.length > 0) throw new FleetError('USAGE', 'Give either --all or host names, not both.');
  if (options.all || (names.length === 0 && options.allByDefault)) {
    return Object.entries(config.hosts)
      .filter(([, host]) => !options.sources || host.backups.length > 0)
      .map(([name]) => name);
  }
  if (names.length === 0) throw new FleetError('USAGE', 'Name the hosts, or pass --all.', { hint: `For example: ${options.example}` });
  for (const name of names) {
    if (!config.hosts[name]) throw new FleetError('USAGE', `Host "${name}" is not in the config.`, { hint: `Known hosts: ${Object.keys(config.hosts).join(', ')}.` });
  }
  return [...new Set(names)];
}
