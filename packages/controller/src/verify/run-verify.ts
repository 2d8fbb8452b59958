import type pino from 'pino';
import type { FleetConfig } from '@zfs-fleet/protocol';
import type { AgentSession } from '../agent/connect-agent.ts';
import { SessionPool } from '../agent/session-pool.ts';
import { collectZfsCalls } from '../run/collect-zfs-calls.ts';
import { gatherTrees, type Listed } from '../run/gather-trees.ts';
import { destinationOf, distinct, listUnits, type Unit } from '../run/list-units.ts';
import { verifyEntry, type VerifyRow } from './verify-entry.ts';
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
  const sessions = new SessionPool(config, logger, { autoInstall: options.autoInstall === true, ...(options.connect ? { connect: options.connect } : {}) });
  let rows: VerifyRow[];
  let zfsCalls: Record<string, number>;
  let exports: ExportVerifyRow[];
  let uploads: IncompleteUploadsRow[];
  try {
    uploads = await checkIncompleteUploads(config, { hosts: options.hosts, cleanup: options.cleanup === true, now, ...(options.target ? { target: options.target } : {}) }, sessions);
    exports = await verifyTargets(config, { hosts: options.hosts, hashPercent: options.hashPercent ?? 0, now, ...(options.target ? { target: options.target } : {}) }, sessions);
    const trees = await gatherTrees(sessions, units);
    rows = units.flatMap((unit) => {
      const [source, copy] = [trees.source(unit), trees.copy(unit)];
      if (!source.ok) return [unreachable(unit, unit.host, source)];
      if (!copy.ok) return [unreachable(unit, unit.peer, copy)];
      const entry = unit.entry;
      return verifyEntry({ host: unit.host, peer: unit.peer, source: source.tree, destination: copy.tree, entry, destinationOf: (dataset) => destinationOf(unit.receiveRoot, unit.host, dataset), snapshotPrefix: config.snapshotPrefix, now });
    });
    const calls = await collectZfsCalls(sessions, distinct(rows.flatMap((row) => [row.host, row.peer])));
    zfsCalls = Object.fromEntries([...calls].map(([host, counted]) => [host, counted.total]));
  } finally {
    await sessions.closeAll();
  }
  rows.sort((a, b) => `${a.host} ${a.peer} ${a.dataset}`.localeCompare(`${b.host} ${b.peer} ${b.dataset}`));
  return { command: 'verify', ok: rows.every((row) => row.status === 'OK') && exports.every((row) => row.status === 'ok'), checkedAt: now.toISOString(), rows, zfsCalls, ...(exports.length > 0 ? { exports } : {}), ...(uploads.length > 0 ? { incompleteUploads: uploads } : {}) };
}

function unreachable(unit: Unit, who: string, listed: Extract<Listed, { ok: false }>): VerifyRow {
  return { host: unit.host, dataset: unit.entry.dataset, peer: unit.peer, destination: '', status: 'UNREACHABLE', details: [`${who} is unreachable: ${listed.error.code}: ${listed.error.message}`] };
}
