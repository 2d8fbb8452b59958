import { snapshotsDestroyedBy, type ReplicationStep } from '@zfs-fleet/plan';
import { isWithin, type DatasetTree, type ReplicateEvent, type Transfer, type WireConfig } from '@zfs-fleet/protocol';
import type { AgentSession } from '../agent/connect-agent.ts';
import type { StepReport } from './run-report.ts';

export type SendableStep = Extract<ReplicationStep, { kind: 'full' | 'incremental' | 'resume' }>;

export interface ExecutePlanInput {
  steps: readonly ReplicationStep[];
  /** The report's steps, by dataset: bytes and durations are filled in as transfers finish. */
  reports: readonly StepReport[];
  /** Sends: its agent runs `zfs send | ssh destination zfs recv`. */
  sender: AgentSession;
  /** Receives: its agent destroys what the plan allowed before the stream arrives. */
  receiver: AgentSession;
  wire: WireConfig;
  /** Where and how a step's stream is received. */
  receiveOf(step: SendableStep): Pick<Transfer, 'receiveInto' | 'exact' | 'mount'>;
  onEvent?(event: ReplicateEvent): void;
  /** Encrypted datasets travel raw; the sender's tree knows which are. */
  isEncrypted?(dataset: string): boolean;
  /** For progress where zfs cannot estimate: the sender's tree, whose referenced bytes size a full stream. */
  senderTree?: DatasetTree;
}

export function sendableSteps(steps: readonly ReplicationStep[]): SendableStep[] {
  return steps.filter((step): step is SendableStep => step.kind === 'full' || step.kind === 'incremental' || step.kind === 'resume');
}

/**
 * Carries out the sending steps of a plan: first the destroys `--force` allowed (each checked
 * against the guid the plan saw, because `recv -F` alone rolls back only to the newest
 * snapshot), then one stream per step, host to host. Throws the first failure.
 */
export async function executePlan(input: ExecutePlanInput): Promise<void> {
  // A partial receive that can never finish goes first: a new receive fails while it is there.
  for (const step of input.steps) {
    if (step.abortPartialReceive && step.kind !== 'blocked') await input.receiver.agent.abortPartialReceive.mutate({ dataset: step.destination });
  }
  const sendable = sendableSteps(input.steps);
  if (sendable.length === 0) return;
  for (const step of sendable) {
    const doomed = snapshotsDestroyedBy(step);
    if (doomed.length > 0) {
      await input.receiver.agent.destroySnapshots.mutate({ dataset: step.destination, snapshots: doomed.map((s) => ({ name: s.name, guid: s.guid })) });
    }
  }
  await streamTransfers(input, transfersOf(input, sendable));
}

/** The plan's sending steps in the agent's terms: what `replicate` runs and `estimate` sizes. */
export function transfersOf(input: Pick<ExecutePlanInput, 'receiveOf' | 'isEncrypted' | 'senderTree'>, sendable: readonly SendableStep[]): Transfer[] {
  return sendable.map((step) => ({
    dataset: step.dataset,
    ...(step.kind === 'resume' ? { resumeToken: step.token, recursive: false, force: false, ...(step.to ? { to: step.to.name } : {}), ...(step.from ? { from: step.from.name } : {}) } : { to: step.to.name, recursive: step.recursive, force: step.force }),
    ...(step.kind === 'incremental' ? { from: step.from.name } : {}),
    ...(step.kind === 'full' && step.history ? { history: step.history.name } : {}),
    raw: input.isEncrypted?.(step.dataset) ?? false,
    ...(step.kind === 'full' && input.senderTree ? { sizeHint: fullStreamSize(input.senderTree, step.dataset, step.recursive) } : {}),
    ...input.receiveOf(step),
  }));
}

function streamTransfers(input: ExecutePlanInput, transfers: Transfer[]): Promise<void> {
  const { sender, receiver } = input;
  const reports = new Map(input.reports.map((step) => [step.dataset, step]));
  return new Promise<void>((resolve, reject) => {
    const subscription = sender.agent.replicate.subscribe(
      {
        peer: { name: receiver.host, address: receiver.address, port: receiver.port, user: receiver.user },
        transfers,
        wire: input.wire,
        peerZfs: receiver.hello.zfs,
        peerTools: receiver.hello.tools,
      },
      {
        onData: (event: ReplicateEvent) => {
          input.onEvent?.(event);
          if (event.type === 'transferred') {
            const report = reports.get(event.result.dataset);
            if (report) Object.assign(report, { bytes: event.result.bytes, durationMs: Math.round(event.result.durationMs) });
          }
          if (event.type === 'done') {
            subscription.unsubscribe();
            resolve();
          }
        },
        onError: (error: unknown) => reject(error),
        onComplete: () => resolve(),
      },
    );
  });
}

/** A full stream carries about what its datasets reference (more with snapshots, less compressed). */
function fullStreamSize(tree: DatasetTree, dataset: string, recursive: boolean): number {
  return tree.datasets.filter((d) => (recursive ? isWithin(d.name, dataset) : d.name === dataset)).reduce((sum, d) => sum + d.referencedBytes, 0);
}
