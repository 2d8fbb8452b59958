import os from 'node:os';
import { toFleetErrorFromClient, type DatasetName, type LockHolder, type LockResult } from '@zfs-fleet/protocol';
import type pino from 'pino';
import type { AgentSession } from '../agent/connect-agent.ts';

/** This controller's run, as the hosts' entry locks name it. */
export function controllerHolder(command: string, startedAt: Date): LockHolder {
  return { controllerHost: os.hostname(), controllerPid: process.pid, startedAt: startedAt.toISOString(), command };
}

/**
 * Takes the agent-held locks of a host's entries (one call); one result per entry, the call's
 * failure becomes every entry's. A taken-over stale lock is logged as a warning.
 */
export async function lockEntries(session: AgentSession, holder: LockHolder, entries: ReadonlyArray<{ dataset: DatasetName; waitMs: number }>, logger: pino.Logger): Promise<LockResult[]> {
  if (entries.length === 0) return [];
  try {
    const results = await session.agent.sequence.lock.mutate({ holder, entries: [...entries] });
    for (const result of results) {
      if (result.takenOver) logger.warn({ host: session.host, dataset: result.dataset, previous: result.takenOver }, 'took over a stale entry lock');
    }
    return results;
  } catch (error) {
    const shape = toFleetErrorFromClient(error).toShape();
    return entries.map((entry) => ({ dataset: entry.dataset, acquired: false, error: shape }));
  }
}

/** Releases entry locks; a failure is logged (the agent releases them when the session ends anyway). */
export async function unlockEntries(session: AgentSession, datasets: readonly DatasetName[], logger: pino.Logger): Promise<void> {
  if (datasets.length === 0) return;
  await session.agent.sequence.unlock.mutate({ datasets: [...datasets] }).catch((error: unknown) => logger.warn({ host: session.host, err: toFleetErrorFromClient(error).toShape() }, 'could not release entry locks; they go when the agent exits'));
}

/** How a lock result reads in a report: "taken over from ctl-a pid 12 (backup since ...)". */
export function describeTakeover(result: LockResult): string | undefined {
  const previous = result.takenOver;
  return previous ? `took over a stale lock of controller host "${previous.controllerHost}" (pid ${previous.controllerPid}, "fleet ${previous.command}" started ${previous.startedAt}; its agent pid ${previous.agentPid} is gone)` : undefined;
}
