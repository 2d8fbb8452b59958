import type pino from 'pino';
import { joinDataset, toFleetErrorFromClient, type DatasetTree, type FleetConfig } from '@zfs-fleet/protocol';
import { SessionPool } from '../agent/session-pool.ts';
import { destinationOf } from '../backup/run-backup.ts';
import { verifyEntry, type VerifyRow } from './verify-entry.ts';

export interface VerifyReport {
  command: 'verify';
  ok: boolean;
  checkedAt: string;
  rows: VerifyRow[];
  /** zfs invocations per host during this verify (constant: one listing per host). */
  zfsCalls: Record<string, number>;
}

/**
 * Proves from the hosts themselves that every backup entry's datasets and snapshots exist on
 * each peer. Read-only: one `zfs get` on each source and one on each peer. An unreachable host
 * is reported as such, never as missing data.
 */
export async function runVerify(config: FleetConfig, options: { hosts: string[]; now?: Date; autoInstall?: boolean }, logger: pino.Logger): Promise<VerifyReport> {
  const now = options.now ?? new Date();
  const sessions = new SessionPool(config, logger, { autoInstall: options.autoInstall === true });
  const rows: VerifyRow[] = [];
  const zfsCalls: Record<string, number> = {};
  const unreachable = (host: string, dataset: string, peer: string, who: string, error: unknown): VerifyRow => {
    const shape = toFleetErrorFromClient(error).toShape();
    return { host, dataset, peer, destination: '', status: 'UNREACHABLE', details: [`${who} is unreachable: ${shape.code}: ${shape.message}`] };
  };
  try {
    await Promise.all(
      options.hosts.map(async (host) => {
        const entries = config.hosts[host]?.backups ?? [];
        if (entries.length === 0) return;
        let sourceTree: DatasetTree;
        try {
          const source = await sessions.get(host);
          sourceTree = (await source.agent.listTree.query({ roots: entries.map((entry) => entry.dataset) })).tree;
        } catch (error) {
          for (const entry of entries) for (const peer of entry.to) rows.push(unreachable(host, entry.dataset, peer, host, error));
          return;
        }
        const peers = [...new Set(entries.flatMap((entry) => entry.to))];
        await Promise.all(
          peers.map(async (peer) => {
            const receiveRoot = config.hosts[peer]!.receive!.root;
            const peerEntries = entries.filter((entry) => entry.to.includes(peer));
            let peerTree: DatasetTree;
            try {
              const session = await sessions.get(peer);
              peerTree = (await session.agent.listTree.query({ roots: [joinDataset(receiveRoot, host)] })).tree;
            } catch (error) {
              for (const entry of peerEntries) rows.push(unreachable(host, entry.dataset, peer, peer, error));
              return;
            }
            for (const entry of peerEntries) {
              rows.push(
                ...verifyEntry({
                  host,
                  peer,
                  source: sourceTree,
                  destination: peerTree,
                  entry,
                  destinationOf: (dataset) => destinationOf(receiveRoot, host, dataset),
                  snapshotPrefix: config.snapshotPrefix,
                  now,
                }),
              );
            }
          }),
        );
      }),
    );
    for (const host of new Set(rows.flatMap((row) => [row.host, row.peer]))) {
      const session = await sessions.get(host).catch(() => undefined);
      if (session) zfsCalls[host] = (await session.agent.zfsCalls.query()).total;
    }
  } finally {
    await sessions.closeAll();
  }
  rows.sort((a, b) => `${a.host} ${a.peer} ${a.dataset}`.localeCompare(`${b.host} ${b.peer} ${b.dataset}`));
  return { command: 'verify', ok: rows.every((row) => row.status === 'OK'), checkedAt: now.toISOString(), rows, zfsCalls };
}
