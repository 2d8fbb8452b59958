import type pino from 'pino';
import { FleetError, type PeerEndpoint, type Transfer, type WireConfig, type WireTools } from '@zfs-fleet/protocol';
import { buildRecvArgs, type ZfsExec } from '@zfs-fleet/zfs';
import { receiveCommandStages } from '../receive-command.ts';
import { replicationIdentity } from '../replication-keys.ts';
import { buildPeerSshArgs } from '../ssh-command.ts';
import { planWire } from '../wire.ts';
import { describeTransfer, type TransferCommands } from './build-transfer-commands.ts';
import { classifyStreamFailure } from './classify-stream-failure.ts';
import { runKernelPipeline } from './kernel-pipeline.ts';
import { runNodePipeline } from './node-pipeline.ts';
import { dieWithAgentLauncher, hasSetpriv } from './die-with-agent.ts';
import { watchForStall } from './stall-watchdog.ts';

export interface StreamTransferOptions {
  zfs: ZfsExec;
  logger: pino.Logger;
  peer: PeerEndpoint;
  wire: WireConfig;
  sourceTools: WireTools;
  peerTools: WireTools;
  signal?: AbortSignal;
  /** Called as bytes flow; cheap, called often. */
  onBytes?: (totalBytes: number) => void;
}

/**
 * Streams `zfs send` from this host into `zfs recv` on the peer over the system ssh, through
 * optional compression and buffering stages. The bytes never pass through the controller.
 */
export async function streamTransfer(transfer: Transfer, commands: TransferCommands, options: StreamTransferOptions): Promise<{ bytes: number; durationMs: number; compression: string }> {
  const wire = planWire(options.wire, options.sourceTools, options.peerTools);
  const receive = { ...(wire.decompress ? { decompress: wire.decompress } : {}), recv: commands.recv };
  const sshArgv = buildPeerSshArgs(options.peer, options.wire, receiveCommandStages(receive), await replicationIdentity());
  const log = options.logger.child({ dataset: transfer.dataset, peer: options.peer.name });
  for (const note of wire.notes) log.warn(note);
  log.debug({ send: commands.send, stages: wire.local, ssh: sshArgv }, 'starting transfer');
  const startedAt = performance.now();

  const controller = new AbortController();
  const abort = () => controller.abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  // A stream that stops moving (a hung zfs recv, a link that swallows packets) would wait for ever.
  const watchdog = watchForStall(options.wire.stallTimeout, abort);
  const launcher = dieWithAgentLauncher(await hasSetpriv());
  const send = options.zfs.spawn(commands.send, { signal: controller.signal, launcher });
  const run = options.sourceTools.pv ? runKernelPipeline : runNodePipeline;
  const outcome = await run({
    launcher,
    send,
    stages: wire.local,
    sshArgv,
    signal: controller.signal,
    abort,
    onBytes: (total) => {
      watchdog.progress(total);
      options.onBytes?.(total);
    },
    ...(options.wire.bandwidthLimitBytesPerSecond ? { bytesPerSecond: options.wire.bandwidthLimitBytesPerSecond } : {}),
  });
  const sendResult = await send.result;
  watchdog.stop();
  options.signal?.removeEventListener('abort', abort);
  const durationMs = performance.now() - startedAt;
  if (watchdog.stalled()) throw streamStalled(describeTransfer(transfer), options.peer.name, options.wire.stallTimeout, outcome.bytes);

  const failure = classifyStreamFailure(
    { ...outcome, send: sendResult, cancelled: options.signal?.aborted === true },
    { transfer: describeTransfer(transfer), peer: options.peer, force: transfer.force, recvArgv: buildRecvArgs(commands.recv), resumable: commands.recv.resumable === true },
  );
  if (failure) throw failure;
  log.info({ bytes: outcome.bytes, durationMs: Math.round(durationMs), compression: wire.compression }, 'transfer finished');
  return { bytes: outcome.bytes, durationMs, compression: wire.compression };
}

/** The watchdog stopped a stream that carried no bytes for `wire.stallTimeout`. */
export function streamStalled(transfer: string, peer: string, timeoutMs: number, bytes: number): FleetError {
  return new FleetError('TIMEOUT', `The stream of "${transfer}" to peer "${peer}" carried no bytes for ${timeoutMs / 1000} s (wire.stallTimeout) after ${bytes} bytes; it was stopped.`, {
    hint: `Check the peer's zfs recv and the link to it; a peer that is only slow needs a longer wire.stallTimeout.`,
    details: { peer, phase: 'stream', timeoutMs, bytes },
  });
}
