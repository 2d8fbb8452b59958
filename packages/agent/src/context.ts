import type pino from 'pino';
import type { WireTools, ZfsCapabilities } from '@zfs-fleet/protocol';
import type { ZfsExec } from '@zfs-fleet/zfs';
import type { EntryLocks } from './locks/entry-locks.ts';
import type { streamTransfer } from './transfer/stream-transfer.ts';

/** What every agent procedure gets: one zfs runner (which counts calls) and probed capabilities. */
export interface AgentContext {
  logger: pino.Logger;
  zfs: ZfsExec;
  capabilities(): Promise<ZfsCapabilities>;
  tools(): Promise<WireTools>;
  /** Moves one stream to a peer: `streamTransfer`, or a stand-in in tests that run no processes. */
  streamTransfer: typeof streamTransfer;
  /** The entry locks this agent process holds on the host. */
  locks: EntryLocks;
}
