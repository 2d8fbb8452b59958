import { z } from 'zod';
import { DatasetNameSchema, SnapshotNameSchema, type DatasetName, type SnapshotName } from './names.ts';
import { ZfsCapabilitiesSchema, type DatasetTree } from './tree.ts';
import { WireInputSchema } from './config.ts';

/**
 * Inputs and outputs of the agent's procedures. The agent validates each input on arrival and
 * each query's output before it leaves (`.output()`); the controller trusts the typed result.
 */

export const HelloInputSchema = z.object({ controllerVersion: z.string() });

/** Stream helpers found on the host's PATH: wire compression needs them on both ends; `age` encrypts exports. */
export const WireToolsSchema = z.object({ zstd: z.boolean(), lz4: z.boolean(), mbuffer: z.boolean(), pv: z.boolean().default(false), age: z.boolean().optional() });
export type WireTools = z.infer<typeof WireToolsSchema>;

export const HelloOutputSchema = z.object({
  agentVersion: z.string(),
  nodeVersion: z.string(),
  hostname: z.string(),
  zfs: ZfsCapabilitiesSchema,
  tools: WireToolsSchema,
  /** The host's IANA time zone: retention periods are its calendar's. */
  timeZone: z.string().optional(),
});
export type HelloOutput = z.infer<typeof HelloOutputSchema>;

export const ListTreeInputSchema = z.object({
  roots: z.array(DatasetNameSchema).min(1),
  /** Also each snapshot's hold count (`userrefs`): pruning never destroys a held snapshot. */
  withHolds: z.boolean().optional(),
});
/**
 * Not validated on the way out: zfs accepts names our stricter rules refuse (a space, say), and
 * one such dataset must not fail a whole host's listing; the plan refuses to act on it instead.
 */
export interface ListTreeOutput {
  tree: DatasetTree;
  missingRoots: DatasetName[];
}

export const SnapshotInputSchema = z.object({
  name: SnapshotNameSchema,
  datasets: z.array(z.object({ dataset: DatasetNameSchema, recursive: z.boolean() })).min(1),
});

export const EnsureDatasetsInputSchema = z.object({
  /** Datasets to create with their parents (`zfs create -p`) when missing. */
  datasets: z.array(DatasetNameSchema).min(1),
  /**
   * Set on the datasets this call creates. Backup hosts create each source's subtree with
   * atime=off, so reading a backup copy does not modify it (which would make the next
   * incremental receive fail). Not readonly=on: zfs must create mountpoints below it.
   */
  properties: z.partialRecord(z.enum(['atime', 'canmount']), z.enum(['on', 'off', 'noauto'])).optional(),
});

export const FinishRestoreInputSchema = z.object({
  /** The restored root: left read-write whatever the backup side had set. */
  dataset: DatasetNameSchema,
  /**
   * The source's own `canmount` for restored filesystems whose copy carried another (backups
   * keep copies `noauto`); set back, then mounted where it is `on`.
   */
  canmount: z.array(z.object({ dataset: DatasetNameSchema, value: z.enum(['on', 'off', 'noauto']) })).default([]),
});

/** Copies on a backup host never mount at boot (`zfs mount -a`): each gets `canmount=noauto` locally. */
export const KeepUnmountedInputSchema = z.object({ datasets: z.array(DatasetNameSchema).min(1) });

/** `fleet keys setup`: the source's key, as a peer authorizes it for receives into one subtree. */
export const AuthorizeKeyInputSchema = z.object({
  /** Marks the line as ours for this source, e.g. `zfs-fleet:src1`; an earlier line with it is replaced. */
  tag: z.string().regex(/^zfs-fleet:[A-Za-z0-9_.-]+$/),
  publicKey: z.string().max(1000),
  /** The peer agent's restricted receive, e.g. `fleet-agent recv --root backup/fleet/src1`. */
  forcedCommand: z.string().regex(/^[A-Za-z0-9@%+=:,./_ -]+$/),
});

export const TrustHostKeysInputSchema = z.object({
  entries: z.array(z.object({ name: z.string().regex(/^(\[[A-Za-z0-9.:-]+\]:[0-9]+|[A-Za-z0-9.:-]+)$/), keyType: z.string().regex(/^[a-z0-9@.-]+$/), keyBase64: z.string().regex(/^[A-Za-z0-9+/=]+$/) })),
});

export const DestroySnapshotsInputSchema = z.object({
  dataset: DatasetNameSchema,
  snapshots: z.array(z.object({ name: SnapshotNameSchema, guid: z.string() })).min(1),
});

/** What a resume token names (decoded on the source with `zfs send -nv -t`). */
export const ResumeTokenInfoSchema = z.object({
  token: z.string(),
  /** `pool/ds@snap` as it was when the interrupted send started. */
  toName: z.string(),
  /** Decimal, as in the trees: the snapshot is matched by guid, its name may have changed. */
  toGuid: z.string().regex(/^[0-9]+$/),
  /** Present for an interrupted incremental: its base. */
  fromGuid: z
    .string()
    .regex(/^[0-9]+$/)
    .optional(),
});
export type ResumeTokenInfo = z.infer<typeof ResumeTokenInfoSchema>;

export const DecodeResumeTokensInputSchema = z.object({ tokens: z.array(z.string().regex(/^[0-9a-f-]+$/)).min(1) });

/** `zfs recv -A` on the peer: drops a partial receive's state, keeps every received snapshot. */
export const AbortPartialReceiveInputSchema = z.object({ dataset: DatasetNameSchema });

/** Where a source streams to: the peer's sshd, reached from the source host itself. */
export const PeerEndpointSchema = z.object({
  name: z.string(),
  address: z.string(),
  port: z.number().int().min(1).max(65535),
  user: z.string().regex(/^[A-Za-z0-9_.-]+$/),
});
export type PeerEndpoint = z.infer<typeof PeerEndpointSchema>;

/** One `zfs send | ssh peer zfs recv`: what the plan decided, in the agent's terms. */
export const TransferSchema = z.object({
  dataset: DatasetNameSchema,
  /**
   * Target snapshot. When resuming, the token names what is sent; `to` and `from` are then what
   * the token was decoded to, so the holds move as for any other transfer.
   */
  to: SnapshotNameSchema.optional(),
  /** OpenZFS: finish an interrupted receive with `zfs send -t TOKEN`. */
  resumeToken: z
    .string()
    .regex(/^[0-9a-f-]+$/)
    .optional(),
  /** The dataset is encrypted: send it raw (`-w`), never decrypted. */
  raw: z.boolean().default(false),
  /** A rough size for progress where zfs cannot estimate (a full stream ≈ what it references). */
  sizeHint: z.number().int().nonnegative().optional(),
  /** Incremental base; absent for a full stream. */
  from: SnapshotNameSchema.optional(),
  /**
   * A full transfer that keeps history: this (oldest) snapshot goes in full, then `-I` up to
   * `to`, as two streams. Without it a full carries only `to`.
   */
  history: SnapshotNameSchema.optional(),
  recursive: z.boolean(),
  /** `zfs recv -d` target: the stream's dataset lands at `<receiveInto>/<dataset without pool>`. */
  receiveInto: DatasetNameSchema,
  /** Receive as exactly `receiveInto` (no `-d`): restores land under a name of the user's choosing. */
  exact: z.boolean().default(false),
  /** Mount what is received. Backups stay unmounted (`-u`); restores are meant to be used. */
  mount: z.boolean().default(false),
  /** `zfs recv -F`: only when the plan proved it destroys nothing the user did not allow. */
  force: z.boolean(),
});
export type Transfer = z.input<typeof TransferSchema>;

export const ReplicateInputSchema = z.object({
  peer: PeerEndpointSchema,
  transfers: z.array(TransferSchema).min(1),
  wire: WireInputSchema,
  /** The peer's zfs, from its hello: flags go on the stream only when both ends support them. */
  peerZfs: ZfsCapabilitiesSchema,
  peerTools: WireToolsSchema,
});
export type ReplicateInput = z.infer<typeof ReplicateInputSchema>;

/** `fleet plan`: the sizes `zfs send -nP` predicts for the plan's transfers, without sending. */
export const EstimateInputSchema = z.object({
  transfers: z.array(TransferSchema).min(1),
  peerZfs: ZfsCapabilitiesSchema,
});

export interface TransferResult {
  dataset: DatasetName;
  kind: 'full' | 'incremental' | 'resume';
  from?: SnapshotName;
  to?: SnapshotName;
  bytes: number;
  durationMs: number;
}

/** Events of the `replicate` subscription, in order; `done` ends it, a failure ends it with an error instead. */
export type ReplicateEvent =
  | { type: 'start'; index: number; dataset: DatasetName; kind: TransferResult['kind']; estimatedBytes?: number }
  | { type: 'progress'; index: number; bytes: number; bytesPerSecond: number }
  | { type: 'transferred'; index: number; result: TransferResult }
  | { type: 'done'; results: TransferResult[]; zfsCalls: number };

export const ZfsCallsOutputSchema = z.object({ total: z.number().int(), byVerb: z.record(z.string(), z.number().int()) });
export type ZfsCallsOutput = z.infer<typeof ZfsCallsOutputSchema>;
