import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import type pino from 'pino';
import { FleetError, type PeerEndpoint, type Transfer, type WireConfig, type ZfsCapabilities } from '@zfs-fleet/protocol';
import { buildRecvArgs, buildSendArgs, classifyZfsError, type ZfsExec } from '@zfs-fleet/zfs';
import { buildPeerSshArgs } from './ssh-command.ts';

export interface StreamTransferOptions {
  zfs: ZfsExec;
  logger: pino.Logger;
  peer: PeerEndpoint;
  wire: WireConfig;
  source: ZfsCapabilities;
  destination: ZfsCapabilities;
  signal?: AbortSignal;
  /** Called as bytes flow; cheap, called often. */
  onBytes?: (totalBytes: number) => void;
}

/** The argv pair of one transfer: `zfs send ...` here, `zfs recv ...` on the peer. */
export function buildTransferCommands(transfer: Transfer, source: ZfsCapabilities, destination: ZfsCapabilities): { send: string[]; recv: string[] } {
  const snapshot = `${transfer.dataset}@${transfer.to}`;
  const send = buildSendArgs({
    snapshot,
    ...(transfer.from ? { from: `${transfer.dataset}@${transfer.from}` } : {}),
    intermediates: true,
    replicate: transfer.recursive,
    // Large blocks and embedded data only travel when the receiver understands them too.
    largeBlocks: source.largeBlocks && destination.largeBlocks,
    embedded: source.embeddedData && destination.embeddedData,
  });
  const recv = buildRecvArgs({
    target: transfer.receiveInto,
    discardPool: true,
    force: transfer.force,
    noMount: destination.receiveNoMount,
    resumable: false,
  });
  return { send, recv };
}

/**
 * Streams `zfs send` from this host into `zfs recv` on the peer over the system ssh. The
 * bytes pass through one counting Transform (for progress) and never through the controller.
 */
export async function streamTransfer(transfer: Transfer, options: StreamTransferOptions): Promise<{ bytes: number; durationMs: number }> {
  const { send: sendArgv, recv: recvArgv } = buildTransferCommands(transfer, options.source, options.destination);
  const sshArgv = buildPeerSshArgs(options.peer, options.wire, ['zfs', ...recvArgv]);
  const log = options.logger.child({ dataset: transfer.dataset, peer: options.peer.name });
  log.debug({ send: sendArgv, ssh: sshArgv }, 'starting transfer');
  const startedAt = performance.now();

  const controller = new AbortController();
  const abort = () => controller.abort();
  options.signal?.addEventListener('abort', abort, { once: true });

  const send = options.zfs.spawn(sendArgv, { signal: controller.signal });
  const ssh = execa('ssh', sshArgv, {
    stdin: 'pipe',
    stdout: 'ignore',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
    cancelSignal: controller.signal,
    reject: false,
  });

  let bytes = 0;
  const counter = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      options.onBytes?.(bytes);
      callback(null, chunk);
    },
  });

  // If either end dies, stop the other: a half-open pipe would hang forever.
  const piping = pipeline(send.stdout, counter, ssh.stdin).catch((error: unknown) => {
    controller.abort();
    return error;
  });
  const [sendResult, sshResult, pipeError] = await Promise.all([send.result, ssh, piping]);
  options.signal?.removeEventListener('abort', abort);
  const durationMs = performance.now() - startedAt;

  if (options.signal?.aborted) {
    throw new FleetError('CANCELLED', `Transfer of "${transfer.dataset}@${transfer.to}" to "${options.peer.name}" was cancelled.`);
  }
  if (sshResult.exitCode !== 0) {
    const stderr = String(sshResult.stderr ?? '').trim();
    if (sshResult.exitCode === 255 && !/cannot receive/i.test(stderr)) {
      throw new FleetError('SSH_CONNECT_FAILED', `Host could not reach peer "${options.peer.name}" (${options.peer.address}) over ssh: ${stderr || 'exit 255'}.`, {
        hint: 'Check that the peer is up and that this host holds a replication key the peer accepts (`fleet keys setup`).',
        details: { peer: options.peer.name, stderr },
      });
    }
    const { code, hint } = classifyZfsError(stderr, recvArgv);
    throw new FleetError(code === 'ZFS_FAILED' ? 'STREAM_FAILED' : code, `zfs recv on peer "${options.peer.name}" failed for "${transfer.dataset}@${transfer.to}": ${stderr || `exit ${sshResult.exitCode}`}`, {
      hint,
      details: { peer: options.peer.name, argv: recvArgv, stderr },
    });
  }
  if (sendResult.error) throw sendResult.error;
  if (pipeError) {
    throw new FleetError('STREAM_FAILED', `The stream of "${transfer.dataset}@${transfer.to}" to "${options.peer.name}" broke: ${String(pipeError)}`, { cause: pipeError });
  }
  log.info({ bytes, durationMs: Math.round(durationMs) }, 'transfer finished');
  return { bytes, durationMs };
}
