import { access } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type pino from 'pino';
import { FleetError, type PeerEndpoint, type Transfer, type WireConfig, type WireTools, type ZfsCapabilities } from '@zfs-fleet/protocol';
import { buildRecvArgs, buildSendArgs, classifyZfsError, type ZfsExec } from '@zfs-fleet/zfs';
import { buildPeerSshArgs } from './ssh-command.ts';
import { planWire } from './wire.ts';
import { replicationPaths } from './replication-keys.ts';

export interface StreamTransferOptions {
  zfs: ZfsExec;
  logger: pino.Logger;
  peer: PeerEndpoint;
  wire: WireConfig;
  source: ZfsCapabilities;
  destination: ZfsCapabilities;
  sourceTools: WireTools;
  peerTools: WireTools;
  signal?: AbortSignal;
  /** Called as bytes flow; cheap, called often. */
  onBytes?: (totalBytes: number) => void;
}

/** The argv pair of one transfer: `zfs send ...` here, `zfs recv ...` on the peer. */
export function buildTransferCommands(transfer: Transfer, source: ZfsCapabilities, destination: ZfsCapabilities): { send: string[]; recv: string[] } {
  if (transfer.raw && !(source.rawSend && destination.rawSend)) {
    throw new FleetError('ENCRYPTION_UNSUPPORTED', `"${transfer.dataset}" is encrypted and the ${source.rawSend ? 'peer' : 'source'}'s zfs cannot send or receive raw streams; refusing to send its data decrypted.`, {
      hint: 'Upgrade zfs on both ends to OpenZFS 0.8 or newer.',
    });
  }
  const snapshot = `${transfer.dataset}@${transfer.to ?? ''}`;
  const send = buildSendArgs({
    snapshot,
    ...(transfer.resumeToken ? { resumeToken: transfer.resumeToken } : {}),
    raw: transfer.raw === true,
    ...(transfer.from ? { from: `${transfer.dataset}@${transfer.from}` } : {}),
    intermediates: true,
    replicate: transfer.recursive,
    // Large blocks and embedded data only travel when the receiver understands them too.
    largeBlocks: source.largeBlocks && destination.largeBlocks,
    embedded: source.embeddedData && destination.embeddedData,
    compressed: source.compressedSend && destination.compressedSend,
  });
  const recv = buildRecvArgs({
    target: transfer.receiveInto,
    discardPool: transfer.exact !== true,
    force: transfer.force,
    noMount: destination.receiveNoMount && transfer.mount !== true,
    // Where the peer can keep a partial stream, a broken connection costs only what is unsent.
    resumable: destination.resumableReceive,
  });
  return { send, recv };
}

/**
 * Counts the bytes for progress and, with a limit, paces them: a token bucket refilled at
 * `bytesPerSecond`, so a link shared with users is not saturated.
 */
function createMeter(onBytes: (total: number) => void, bytesPerSecond?: number): Transform & { bytes(): number } {
  let total = 0;
  const startedAt = performance.now();
  const meter = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      onBytes(total);
      if (!bytesPerSecond) return callback(null, chunk);
      const dueAt = startedAt + (total / bytesPerSecond) * 1000;
      const wait = dueAt - performance.now();
      if (wait <= 1) return callback(null, chunk);
      void sleep(wait).then(() => callback(null, chunk));
    },
  });
  return Object.assign(meter, { bytes: () => total });
}

/**
 * Streams `zfs send` from this host into `zfs recv` on the peer over the system ssh, through
 * optional compression and buffering stages. The bytes pass through one counting Transform
 * here and never through the controller.
 */
export async function streamTransfer(transfer: Transfer, options: StreamTransferOptions): Promise<{ bytes: number; durationMs: number; compression: string }> {
  const { send: sendArgv, recv: recvArgv } = buildTransferCommands(transfer, options.source, options.destination);
  const wire = planWire(options.wire, options.sourceTools, options.peerTools);
  const sshArgv = buildPeerSshArgs(options.peer, options.wire, [...wire.remote, ['zfs', ...recvArgv]], await replicationIdentity());
  const log = options.logger.child({ dataset: transfer.dataset, peer: options.peer.name });
  for (const note of wire.notes) log.warn(note);
  log.debug({ send: sendArgv, stages: wire.local, ssh: sshArgv }, 'starting transfer');
  const startedAt = performance.now();

  const controller = new AbortController();
  const abort = () => controller.abort();
  options.signal?.addEventListener('abort', abort, { once: true });

  const send = options.zfs.spawn(sendArgv, { signal: controller.signal });
  const stages = wire.local.map(([command, ...args]) =>
    execa(command!, args, { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: { stdout: false, stderr: true }, cancelSignal: controller.signal, reject: false }),
  );
  const ssh = execa('ssh', sshArgv, {
    stdin: 'pipe',
    stdout: 'ignore',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
    cancelSignal: controller.signal,
    reject: false,
  });

  const meter = createMeter((total) => options.onBytes?.(total), options.wire.bandwidthLimitBytesPerSecond);
  // Each stage is a pipe segment of its own: node hands chunks on with backpressure.
  const segments = [
    pipeline(send.stdout, meter, stages[0]?.stdin ?? ssh.stdin),
    ...stages.map((stage, index) => pipeline(stage.stdout, stages[index + 1]?.stdin ?? ssh.stdin)),
  ];
  // If any end dies, stop the others: a half-open pipe would hang forever.
  const piping = Promise.all(segments).then(
    () => undefined,
    (error: unknown) => {
      controller.abort();
      return error;
    },
  );
  const [sendResult, sshResult, stageResults, pipeError] = await Promise.all([send.result, ssh, Promise.all(stages), piping]);
  options.signal?.removeEventListener('abort', abort);
  const durationMs = performance.now() - startedAt;

  if (options.signal?.aborted) {
    throw new FleetError('CANCELLED', `Transfer of "${describeTransfer(transfer)}" to "${options.peer.name}" was cancelled.`);
  }
  if (sshResult.exitCode !== 0) {
    const stderr = String(sshResult.stderr ?? '').trim();
    if (sshResult.exitCode === 255 && !/cannot receive/i.test(stderr)) {
      throw new FleetError('SSH_CONNECT_FAILED', `Host could not reach peer "${options.peer.name}" (${options.peer.address}) over ssh: ${stderr || 'exit 255'}.`, {
        hint: 'Check that the peer is up and that this host holds a replication key the peer accepts (`fleet keys setup`).',
        details: { peer: options.peer.name, stderr },
      });
    }
    if (stderr.includes('fleet-agent: refused')) {
      throw new FleetError('PERMISSION_DENIED', `Peer "${options.peer.name}" refused the receive of "${describeTransfer(transfer)}" under this host's replication key: ${stderr.replace(/^fleet-agent: /, '')}`, {
        hint: transfer.force ? 'This step needs zfs recv -F: allow it with `fleet keys setup --allow-rollback`, or run it without --force.' : 'Run `fleet keys setup` again for this host.',
        details: { peer: options.peer.name, stderr },
      });
    }
    const { code, hint } = classifyZfsError(stderr, recvArgv);
    throw new FleetError(code === 'ZFS_FAILED' ? 'STREAM_FAILED' : code, `zfs recv on peer "${options.peer.name}" failed for "${describeTransfer(transfer)}": ${stderr || `exit ${sshResult.exitCode}`}`, {
      ...(hint ? { hint } : {}),
      details: { peer: options.peer.name, argv: recvArgv, stderr },
    });
  }
  if (sendResult.error) throw sendResult.error;
  const failedStage = stageResults.find((stage) => stage.exitCode !== 0);
  if (failedStage) {
    throw new FleetError('STREAM_FAILED', `${failedStage.command} failed on the source: ${String(failedStage.stderr ?? '').trim() || `exit ${failedStage.exitCode}`}`);
  }
  if (pipeError) {
    throw new FleetError('STREAM_FAILED', `The stream of "${describeTransfer(transfer)}" to "${options.peer.name}" broke: ${String(pipeError)}`, { cause: pipeError });
  }
  log.info({ bytes: meter.bytes(), durationMs: Math.round(durationMs), compression: wire.compression }, 'transfer finished');
  return { bytes: meter.bytes(), durationMs, compression: wire.compression };
}

/** Uses the key and peer host keys of `fleet keys setup` when this host has them. */
async function replicationIdentity(): Promise<{ identityFile?: string; knownHostsFiles?: string[] }> {
  const paths = replicationPaths();
  const [hasKey, hasKnownHosts] = await Promise.all([access(paths.identity).then(() => true, () => false), access(paths.knownHosts).then(() => true, () => false)]);
  return {
    ...(hasKey ? { identityFile: paths.identity } : {}),
    ...(hasKnownHosts ? { knownHostsFiles: [path.join(paths.ssh, 'known_hosts'), paths.knownHosts] } : {}),
  };
}

function describeTransfer(transfer: Transfer): string {
  return transfer.to ? `${transfer.dataset}@${transfer.to}` : `${transfer.dataset} (resumed stream)`;
}
