import { readFile } from 'node:fs/promises';
import type pino from 'pino';
import { FleetError, toFleetErrorFromClient, type FleetConfig } from '@zfs-fleet/protocol';
import { hostEndpoint, type AgentSession } from '../agent/connect-agent.ts';
import { SessionPool } from '../agent/session-pool.ts';
import { distinct, listUnits } from '../run/list-units.ts';
import { keysForHost, knownHostName, parseKnownHosts } from '../ssh/known-hosts.ts';

export interface KeySetupRow {
  host: string;
  peer: string;
  ok: boolean;
  /** The authorized_keys line written on the peer, or what went wrong. */
  detail: string;
}

/**
 * Gives each source host its own replication key (made on the host; the private half stays
 * there) and authorizes it on each of its peers with a forced command: `fleet-agent recv` that
 * only receives into `<receive.root>/<host>`. The peers' host keys, already trusted by the
 * controller, are passed on so the source's ssh checks them strictly too.
 */
export async function setUpKeys(config: FleetConfig, hosts: readonly string[], options: { allowRollback: boolean; connect?: (host: string) => Promise<AgentSession> }, logger: pino.Logger): Promise<KeySetupRow[]> {
  const sessions = new SessionPool(config, logger, options.connect ? { connect: options.connect } : {});
  const knownHosts = parseKnownHosts(await readFile(config.ssh.knownHosts, 'utf8').catch(() => ''));
  const rows: KeySetupRow[] = [];
  try {
    const units = listUnits(config, { hosts });
    for (const host of hosts) {
      const peers = distinct(units.filter((unit) => unit.host === host).map((unit) => unit.peer));
      let publicKey: string;
      try {
        publicKey = (await (await sessions.get(host)).agent.replicationKey.mutate()).publicKey;
      } catch (error) {
        const shape = toFleetErrorFromClient(error).toShape();
        for (const peer of peers) rows.push({ host, peer, ok: false, detail: `${shape.code}: ${shape.message}` });
        continue;
      }
      const trusted: Array<{ name: string; keyType: string; keyBase64: string }> = [];
      for (const peer of peers) {
        try {
          const peerSession = await sessions.get(peer);
          const root = units.find((unit) => unit.host === host && unit.peer === peer)!.hostRoot;
          const agentCommand = (config.hosts[peer]?.agent ?? config.agent).command;
          const forcedCommand = `${agentCommand} recv --root ${root}${options.allowRollback ? ' --allow-rollback' : ''}`;
          const { line } = await peerSession.agent.authorizeKey.mutate({ tag: `zfs-fleet:${host}`, publicKey, forcedCommand });
          const endpoint = hostEndpoint(config, peer);
          const name = knownHostName(endpoint.host, endpoint.port);
          const keys = keysForHost(knownHosts, name);
          if (keys.length === 0) throw new FleetError('SSH_HOST_KEY_UNKNOWN', `The controller does not know ${peer}'s host key, so it cannot vouch for it to ${host}.`, { hint: `fleet hosts trust ${peer}` });
          trusted.push(...keys.map((key) => ({ name, keyType: key.keyType, keyBase64: key.keyBase64 })));
          rows.push({ host, peer, ok: true, detail: line.replace(/ssh-ed25519 \S+/, 'ssh-ed25519 …') });
        } catch (error) {
          const shape = toFleetErrorFromClient(error).toShape();
          rows.push({ host, peer, ok: false, detail: `${shape.code}: ${shape.message}` });
        }
      }
      if (trusted.length > 0) await (await sessions.get(host)).agent.trustHostKeys.mutate({ entries: trusted });
    }
  } finally {
    await sessions.closeAll();
  }
  return rows;
}
