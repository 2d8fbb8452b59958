import { readFile } from 'node:fs/promises';
import { FleetError, joinDataset, toFleetErrorFromClient, type FleetConfig } from '@zfs-fleet/protocol';
import type pino from 'pino';
import { hostEndpoint } from '../agent/connect-agent.ts';
import { SessionPool } from '../agent/session-pool.ts';
import { EXIT, type Command } from '../cli/command.ts';
import { selectHosts } from '../cli/select-hosts.ts';
import { formatTable } from '../output/format.ts';
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
export async function setUpKeys(config: FleetConfig, hosts: readonly string[], options: { allowRollback: boolean }, logger: pino.Logger): Promise<KeySetupRow[]> {
  const sessions = new SessionPool(config, logger);
  const knownHosts = parseKnownHosts(await readFile(config.ssh.knownHosts, 'utf8').catch(() => ''));
  const rows: KeySetupRow[] = [];
  try {
    for (const host of hosts) {
      const peers = [...new Set((config.hosts[host]?.backups ?? []).flatMap((entry) => entry.to))];
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
          const root = joinDataset(config.hosts[peer]!.receive!.root, host);
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

export const keysCommand: Command = {
  name: 'keys',
  usage: ['fleet keys setup (--all | HOST...) [--allow-rollback] [--json]'],
  options: { all: { type: 'boolean' }, 'allow-rollback': { type: 'boolean' } },
  async run(context) {
    const [verb, ...hostNames] = context.args;
    if (verb !== 'setup') throw new FleetError('USAGE', `fleet keys takes "setup", not "${verb ?? ''}".`, { hint: 'fleet keys setup --all' });
    const { config } = await context.config();
    const hosts = selectHosts(config, hostNames, { all: context.flags.all === true, sources: true, example: 'fleet keys setup --all' });
    const rows = await setUpKeys(config, hosts, { allowRollback: context.flags['allow-rollback'] === true }, context.logger);
    const ok = rows.every((row) => row.ok);
    if (context.json) context.out.write(`${JSON.stringify({ command: 'keys setup', ok, rows }, null, 2)}\n`);
    else context.out.write(`${formatTable(rows.map((row) => [row.ok ? 'OK' : 'FAILED', row.host, `→ ${row.peer}`, row.detail]))}\n`);
    return ok ? EXIT.ok : EXIT.failed;
  },
};
