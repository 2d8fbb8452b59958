import type pino from 'pino';
import type { WireTools, ZfsCapabilities } from '@zfs-fleet/protocol';
import type { ZfsExec } from '@zfs-fleet/zfs';

/** What every agent procedure gets: one zfs runner (which counts calls) and probed capabilities. */
export interface AgentContext {
  logger: pino.Logger;
  zfs: ZfsExec;
  capabilities(): Promise<ZfsCapabilities>;
  tools(): Promise<WireTools>;
}
