import { FleetError } from '@zfs-fleet/protocol';
import { classifyZfsError, isBrokenPipe, isReceiveRefusal } from '@zfs-fleet/zfs';
import type { PipelineOutcome } from './pipeline.ts';

/** How every process of one `zfs send | [stages] | ssh peer [decompress |] zfs recv` ended. */
export interface StreamOutcome extends Omit<PipelineOutcome, 'bytes'> {
  send: { exitCode: number; stderr: string; error?: FleetError };
  /** The caller cancelled the transfer. */
  cancelled: boolean;
}

/** What the error names: the transfer, the peer, and what was asked of its zfs recv. */
export interface StreamSubject {
  /** `tank/a@s2`, or `tank/a (resumed stream)`. */
  transfer: string;
  peer: { name: string; address: string };
  force: boolean;
  recvArgv: readonly string[];
  /** The peer receives with `-s`: a broken stream leaves a partial state the next run resumes. */
  resumable?: boolean;
}

// ssh's own failures to reach or log in to the peer (it exits 255 for them).
const SSH_CONNECT_FAILURE = /connection refused|connection timed out|no route to host|could not resolve|network is unreachable|permission denied|host key verification failed|connection closed by remote host|kex_exchange_identification/i;
const AGENT_REFUSAL = 'fleet-agent: refused';

/**
 * Which end broke a stream, and why, from how its processes ended: undefined when all went
 * well. Pure, so each case is a test on recorded stderr. A send that failed for a reason zfs
 * names (a missing base, say) ends the stream early and zfs recv then complains about a short
 * stream: the send's error is the cause. A send that merely lost its reader is a consequence.
 */
export function classifyStreamFailure(outcome: StreamOutcome, subject: StreamSubject): FleetError | undefined {
  const { peer, transfer } = subject;
  if (outcome.cancelled) return new FleetError('CANCELLED', `Transfer of "${transfer}" to "${peer.name}" was cancelled.`);
  const { send, ssh } = outcome;
  if (ssh.exitCode !== 0) {
    const stderr = ssh.stderr.trim();
    const partial = subject.resumable ? 'the peer keeps what it received (zfs recv -s): the next run resumes it' : 'nothing partial was kept';
    if (ssh.signal) {
      // Our own ssh died of a signal (killed here, a timeout, the OOM killer): the peer refused nothing.
      return new FleetError('STREAM_FAILED', `The ssh connection from the source to peer "${peer.name}" was killed by ${ssh.signal} on the source while sending "${transfer}"${describeSend(send)}; ${partial}.`, {
        hint: 'Find out what killed ssh on the source (a user, a timeout, the OOM killer), then run again.',
        details: { peer: peer.name, side: 'source', process: 'ssh', signal: ssh.signal, ...(stderr ? { stderr } : {}) },
      });
    }
    if (ssh.exitCode === 255 && SSH_CONNECT_FAILURE.test(stderr)) {
      return new FleetError('SSH_CONNECT_FAILED', `Host could not reach peer "${peer.name}" (${peer.address}) over ssh: ${stderr}.`, {
        hint: 'Check that the peer is up and that this host holds a replication key the peer accepts (`fleet keys setup`).',
        details: { peer: peer.name, stderr },
      });
    }
    if (send.error && send.error.code !== 'ZFS_FAILED' && !isBrokenPipe(send.stderr, send.exitCode)) return send.error;
    if (ssh.exitCode === 255 && !isReceiveRefusal(stderr)) {
      return new FleetError('STREAM_FAILED', `The connection to peer "${peer.name}" broke while it received "${transfer}" (ssh exit 255${stderr ? `: ${stderr}` : ", no message: the connection or the peer's zfs recv was cut"})${describeSend(send)}; ${partial}.`, {
        hint: 'Run again; check the peer if it keeps happening.',
        details: { peer: peer.name, stderr },
      });
    }
    if (stderr.includes(AGENT_REFUSAL)) {
      return new FleetError('PERMISSION_DENIED', `Peer "${peer.name}" refused the receive of "${transfer}" under this host's replication key: ${stderr.replace(/^fleet-agent: /, '')}`, {
        hint: subject.force ? 'This step needs zfs recv -F: allow it with `fleet keys setup --allow-rollback`, or run it without --force.' : 'Run `fleet keys setup` again for this host.',
        details: { peer: peer.name, stderr },
      });
    }
    const { code, hint } = classifyZfsError(stderr);
    const sendSaid = send.error ? `; zfs send on this host: ${send.stderr.trim() || `exit ${send.exitCode}`}` : '';
    return new FleetError(code === 'ZFS_FAILED' ? 'STREAM_FAILED' : code, `zfs recv on peer "${peer.name}" failed for "${transfer}": ${stderr || `exit ${ssh.exitCode}`}${sendSaid}`, {
      ...(hint ? { hint } : {}),
      details: { peer: peer.name, argv: [...subject.recvArgv], stderr, ...(send.error ? { sendStderr: send.stderr } : {}) },
    });
  }
  if (send.error) return send.error;
  const failedStage = outcome.stages.find((stage) => stage.exitCode !== 0);
  if (failedStage) return new FleetError('STREAM_FAILED', `${failedStage.command} failed on the source: ${failedStage.stderr.trim() || `exit ${failedStage.exitCode}`}`);
  if (outcome.pipeError) {
    return new FleetError('STREAM_FAILED', `The stream of "${transfer}" to "${peer.name}" broke: ${String(outcome.pipeError)}`, { cause: outcome.pipeError });
  }
  return undefined;
}

/** How zfs send ended, for a message about the other end. */
function describeSend(send: StreamOutcome['send']): string {
  if (!send.error) return '';
  return `; zfs send on the source then ${send.stderr.trim() ? `stopped: ${send.stderr.trim().split('\n')[0]}` : `exited ${send.exitCode}`}`;
}
