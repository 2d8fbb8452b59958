import { z } from 'zod';
import { FLEET_ERROR_CODES } from './errors.ts';
import { DatasetNameSchema, SnapshotNameSchema } from './names.ts';

/** Agent procedures of an entry's sequence: host locks, hooks, pruning. Validated on both ends. */

/** Who holds an entry's lock on a host: the controller's run, as the agent recorded it. */
export const LockHolderSchema = z.object({
  controllerHost: z.string(),
  controllerPid: z.number().int(),
  /** When the controller's run started, ISO 8601. */
  startedAt: z.string(),
  command: z.string(),
});
export type LockHolder = z.infer<typeof LockHolderSchema>;

export const AcquireLocksInputSchema = z.object({
  holder: LockHolderSchema,
  entries: z.array(z.object({ dataset: DatasetNameSchema, waitMs: z.number().int().nonnegative() })).min(1),
});

const FleetErrorShapeSchema = z.object({ code: z.enum(FLEET_ERROR_CODES), message: z.string(), hint: z.string().optional(), details: z.record(z.string(), z.unknown()).optional() });

export const LockResultSchema = z.object({
  dataset: DatasetNameSchema,
  acquired: z.boolean(),
  /** A lock whose holder was gone (agent died, host rebooted), taken over. */
  takenOver: LockHolderSchema.extend({ agentPid: z.number().int() }).optional(),
  /** LOCKED naming the live holder, when not acquired. */
  error: FleetErrorShapeSchema.optional(),
});
export type LockResult = z.infer<typeof LockResultSchema>;

export const ReleaseLocksInputSchema = z.object({ datasets: z.array(DatasetNameSchema).min(1) });

export const HOOK_PHASES = ['preSnapshot', 'postSnapshot'] as const;
export type HookPhase = (typeof HOOK_PHASES)[number];

export const RunHooksInputSchema = z.object({
  phase: z.enum(HOOK_PHASES),
  commands: z.array(z.string().min(1)).min(1),
  timeoutMs: z.number().int().positive(),
  env: z.object({ FLEET_HOST: z.string(), FLEET_DATASET: DatasetNameSchema, FLEET_SNAPSHOT: z.string() }),
  /** preSnapshot: the first failing command ends the phase. */
  stopOnFailure: z.boolean(),
});

export const HookResultSchema = z.object({
  command: z.string(),
  /** null when killed by a signal. */
  exitCode: z.number().int().nullable(),
  signal: z.string().optional(),
  timedOut: z.boolean(),
  durationMs: z.number().nonnegative(),
  /** The last bytes of each stream (the log keeps no more). */
  stdoutTail: z.string(),
  stderrTail: z.string(),
});
export type HookResult = z.infer<typeof HookResultSchema>;

export const PruneSnapshotsInputSchema = z.object({
  datasets: z.array(z.object({ dataset: DatasetNameSchema, snapshots: z.array(z.object({ name: SnapshotNameSchema, guid: z.string().regex(/^[0-9]+$/) })).min(1) })).min(1),
});

export const PruneSnapshotsOutputSchema = z.object({
  datasets: z.array(
    z.object({
      dataset: DatasetNameSchema,
      destroyed: z.array(z.string()),
      /** Planned but left: the guid changed, a hold appeared, zfs said busy. */
      skipped: z.array(z.object({ name: z.string(), reason: z.string() })),
      error: FleetErrorShapeSchema.optional(),
    }),
  ),
  zfsCalls: z.number().int(),
});
export type PruneSnapshotsOutput = z.infer<typeof PruneSnapshotsOutputSchema>;
