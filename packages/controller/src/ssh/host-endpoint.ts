import { FleetError, type FleetConfig } from '@zfs-fleet/protocol';
import { parseAddress, type HostEndpoint } from './connect-host.ts';

/** The endpoint of a configured host, as ssh sees it. */
export function hostEndpoint(config: FleetConfig, host: string): HostEndpoint {
  const hostConfig = config.hosts[host];
  if (!hostConfig) throw new FleetError('USAGE', `Host "${host}" is not in the config.`, { hint: `Known hosts: ${Object.keys(config.hosts).join(', ')}.` });
  const { host: address, port } = parseAddress(hostConfig.address, config.ssh.port);
  return { name: host, host: address, port, user: hostConfig.user ?? config.ssh.user };
}

/** How the controller connects to every host: the config's ssh section, in connectHost's terms. */
export function connectOptions(config: FleetConfig): { identityFile: string; knownHostsFile: string; connectTimeoutMs: number } {
  return { identityFile: config.ssh.identityFile, knownHostsFile: config.ssh.knownHosts, connectTimeoutMs: config.ssh.connectTimeoutMs };
}
