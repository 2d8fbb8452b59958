import type pino from 'pino';
import type { FleetConfig } from '@zfs-fleet/protocol';
import type { AgentSession } from '../agent/connect-agent.ts';
import { SessionPool } from '../agent/session-pool.ts';
import { gatherTrees, type Listed } from '../run/gather-trees.ts';
import { destinationOf, distinct, listUnits, type Unit } from '../run/list-units.ts';
import { verifyEntry, type VerifyRow } from './verify-entry.ts';
import { listExportUnits } from '../export/export-units.ts';
import { checkIncompleteUploads, verifyTargets, type ExportVerifyRow, type IncompleteUploadsRow } from '../export/verify-targets.ts';

export interface VerifyReport {
  command: 'verify';
  ok: boolean;
  checkedAt: string;
  rows: VerifyRow[];
  /** zfs invocations per host during this verify (constant: one listing per host). */
  zfsCalls: Record<string, number>;
  /** Export targets: every chunk of every manifest (issue #12). */
  exports?: ExportVerifyRow[];
  /** Object-store targets: multipart uploads never completed, and those `--cleanup` aborted. */
  incompleteUploads?: IncompleteUploadsRow[];
}

/**
 * Proves from the hosts themselves that every backup entry's datasets and snapshots exist on
 * each peer. Read-only: one `zfs get` on each source and one on each peer. An unreachable host
 * is reported as such, never as missing data.
 */
export async function runVerify(config: FleetConfig, options: { hosts: string[]; now?: Date; autoInstall?: boolean; connect?: (host: string) => Promise<AgentSession>; hashPercent?: number; target?: string; cleanup?: boolean }, logger: pino.Logger): Promise<VerifyReport> {
  const now = options.now ?? new Date();
  const units = listUnits(config, { hosts: options.hosts });
  const sessions = new SessionPool(config, logger, { autoInstall: options.autoInstall === true, limit: config.parallel.connections, ...(options.connect ? { connect: options.connect } : {}) });
  const rows: VerifyRow[] = [];
  const exports: ExportVerifyRow[] = [];
  const uploads: IncompleteUploadsRow[] = [];
  let zfsCalls: Record<string, number>;
  try {
    // Export targets are read by their source host's agent: one lease per source host.
    const target = options.target ? { target: options.target } : {};
    await Promise.all(
      distinct(listExportUnits(config, { hosts: options.hosts }).map((unit) => unit.host)).map((host) =>
        sessions.lease([host], async () => {
          uploads.push(...(await checkIncompleteUploads(config, { hosts: [host], cleanup: options.cleanup === true, now, ...target }, sessions)));
          exports.push(...(await verifyTargets(config, { hosts: [host], hashPercent: options.hashPercent ?? 0, now, ...target }, sessions)));
        }),
      ),
    );
    // One source host and its peers at a time per lease: at most parallel.connections sessions open.
    await Promise.all(
      distinct(units.map((unit) => unit.host)).map((host) => {
        const hostUnits = units.filter((unit) => unit.host === host);
        return sessions.lease([host, ...hostUnits.map((unit) => unit.peer)], async () => {
          const trees = await gatherTrees(sessions, hostUnits);
          rows.push(...hostUnits.flatMap((unit) => verifyUnit(unit, trees.source(unit), trees.copy(unit), config, now)));
        });
      }),
    );
    const calls = await sessions.zfsCalls(distinct(rows.flatMap((row) => [row.host, row.peer])));
    zfsCalls = Object.fromEntries([...calls].map(([host, counted]) => [host, counted.total]));
  } finally {
    await sessions.closeAll();
  }
  rows.sort((a, b) => `${a.host} ${a.peer} ${a.dataset}`.localeCompare(`${b.host} ${b.peer} ${b.dataset}`));
  return { command: 'verify', ok: rows.every((row) => row.status === 'OK') && exports.every((row) => row.status === 'ok'), checkedAt: now.toISOString(), rows, zfsCalls, ...(exports.length > 0 ? { exports } : {}), ...(uploads.length > 0 ? { incompleteUploads: uploads } : {}) };
}

function verifyUnit(unit: Unit, source: Listed, copy: Listed, config: FleetConfig, now: Date): VerifyRow[] {
  if (!source.ok) return [unreachable(unit, unit.host, source)];
  if (!copy.ok) return [unreachable(unit, unit.peer, copy)];
  return verifyEntry({ host: unit.host, peer: unit.peer, source: source.tree, destination: copy.tree, entry: unit.entry, destinationOf: (dataset) => destinationOf(unit.receiveRoot, unit.host, dataset), snapshotPrefix: config.snapshotPrefix, now });
}

function unreachable(unit: Unit, who: string, listed: Extract<Listed, { ok: false }>): VerifyRow {
  return { host: unit.host, dataset: unit.entry.dataset, peer: unit.peer, destination: '', status: 'UNREACHABLE', details: [`${who} is unreachable: ${listed.error.code}: ${listed.error.message}`] };
}
