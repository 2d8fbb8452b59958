import { access } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type pino from 'pino';
import { FleetError, type PeerEndpoint, type Transfer, type WireConfig, type WireTools, type ZfsCapabilities } from '@zfs-fleet/protocol';
import { buildRecvArgs, buildSendArgs, classifyZfsError, type ZfsExec, type ZfsStream } from '@zfs-fleet/zfs';
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

const SSH_CONNECT_FAILURE = /connection refused|connection timed out|no route to host|could not resolve|network is unreachable|permission denied|host key verification failed|connection closed by remote host|kex_exchange_identification/i;
const BROKEN_PIPE = /broken pipe|EPIPE/i;

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
  const run = options.sourceTools.pv ? runKernelPipeline : runNodePipeline;
  const { sshResult, stageResults, pipeError, bytes } = await run({
    send,
    stages: wire.local,
    sshArgv,
    signal: controller.signal,
    abort,
    onBytes: (total) => options.onBytes?.(total),
    ...(options.wire.bandwidthLimitBytesPerSecond ? { bytesPerSecond: options.wire.bandwidthLimitBytesPerSecond } : {}),
  });
  const sendResult = await send.result;
  options.signal?.removeEventListener('abort', abort);
  const durationMs = performance.now() - startedAt;

  if (options.signal?.aborted) {
    throw new FleetError('CANCELLED', `Transfer of "${describeTransfer(transfer)}" to "${options.peer.name}" was cancelled.`);
  }
  if (sshResult.exitCode !== 0) {
    const stderr = sshResult.stderr.trim();
    if (sshResult.exitCode === 255 && SSH_CONNECT_FAILURE.test(stderr)) {
      throw new FleetError('SSH_CONNECT_FAILED', `Host could not reach peer "${options.peer.name}" (${options.peer.address}) over ssh: ${stderr}.`, {
        hint: 'Check that the peer is up and that this host holds a replication key the peer accepts (`fleet keys setup`).',
        details: { peer: options.peer.name, stderr },
      });
    }
    // A send that failed for a reason zfs names (a missing base, say) ends the stream early,
    // and zfs recv then complains about a short stream: the send's error is the cause. A send
    // that merely lost its reader (broken pipe, or nothing specific) is a consequence.
    if (sendResult.error && sendResult.error.code !== 'ZFS_FAILED' && !BROKEN_PIPE.test(sendResult.stderr) && sendResult.exitCode !== 141) throw sendResult.error;
    if (sshResult.exitCode === 255 && !/cannot receive/i.test(stderr)) {
      throw new FleetError('STREAM_FAILED', `The connection to peer "${options.peer.name}" broke while receiving "${describeTransfer(transfer)}"${stderr ? `: ${stderr}` : ''}; nothing partial was kept.`, {
        hint: 'Run again; check the peer if it keeps happening.',
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
    const sendSaid = sendResult.error ? `; zfs send on this host: ${sendResult.stderr.trim() || `exit ${sendResult.exitCode}`}` : '';
    throw new FleetError(code === 'ZFS_FAILED' ? 'STREAM_FAILED' : code, `zfs recv on peer "${options.peer.name}" failed for "${describeTransfer(transfer)}": ${stderr || `exit ${sshResult.exitCode}`}${sendSaid}`, {
      ...(hint ? { hint } : {}),
      details: { peer: options.peer.name, argv: recvArgv, stderr, ...(sendResult.error ? { sendStderr: sendResult.stderr } : {}) },
    });
  }
  if (sendResult.error) throw sendResult.error;
  const failedStage = stageResults.find((stage) => stage.exitCode !== 0);
  if (failedStage) {
    throw new FleetError('STREAM_FAILED', `${failedStage.command} failed on the source: ${failedStage.stderr.trim() || `exit ${failedStage.exitCode}`}`);
  }
  if (pipeError) {
    throw new FleetError('STREAM_FAILED', `The stream of "${describeTransfer(transfer)}" to "${options.peer.name}" broke: ${String(pipeError)}`, { cause: pipeError });
  }
  log.info({ bytes, durationMs: Math.round(durationMs), compression: wire.compression }, 'transfer finished');
  return { bytes, durationMs, compression: wire.compression };
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

interface PipelineInput {
  send: ZfsStream;
  /** Processes between zfs send and ssh (compression, mbuffer). */
  stages: string[][];
  sshArgv: string[];
  signal: AbortSignal;
  abort(): void;
  onBytes(total: number): void;
  bytesPerSecond?: number;
}

interface ProcessOutcome {
  command: string;
  exitCode: number;
  stderr: string;
}

interface PipelineOutcome {
  sshResult: ProcessOutcome;
  stageResults: ProcessOutcome[];
  pipeError?: unknown;
  bytes: number;
}

/**
 * The fast path: every process's stdout is the next one's stdin, kernel pipe to kernel pipe,
 * so the stream's bytes never enter this process. `pv` (which splices) counts and paces them.
 */
async function runKernelPipeline(input: PipelineInput): Promise<PipelineOutcome> {
  const meterArgs = ['-n', '-b', '-i', '0.5', ...(input.bytesPerSecond ? ['-L', String(input.bytesPerSecond)] : [])];
  const chain: Array<{ command: string; child: ChildProcess }> = [];
  let upstream: Readable = input.send.stdout;
  for (const [command, ...args] of [['pv', ...meterArgs], ...input.stages]) {
    const child = spawn(command!, args, { stdio: [upstream, 'pipe', 'pipe'], signal: input.signal });
    // Our copy of the pipe must close, or a dead reader would never reach the writer.
    upstream.destroy();
    chain.push({ command: command!, child });
    upstream = child.stdout!;
  }
  const ssh = spawn('ssh', input.sshArgv, { stdio: [upstream, 'ignore', 'pipe'], signal: input.signal });
  upstream.destroy();

  let bytes = 0;
  const meter = chain[0]!.child;
  meter.stderr!.setEncoding('utf8');
  let pending = '';
  const meterStderr: string[] = [];
  meter.stderr!.on('data', (text: string) => {
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (/^[0-9]+$/.test(line.trim())) {
        bytes = Number(line.trim());
        input.onBytes(bytes);
      } else if (line.trim()) meterStderr.push(line);
    }
  });
  const [sshResult, ...stageResults] = await Promise.all([outcomeOf('ssh', ssh), ...chain.map(({ command, child }) => outcomeOf(command, child))]);
  if (/^[0-9]+$/.test(pending.trim())) bytes = Number(pending.trim());
  if (stageResults[0]) stageResults[0].stderr = meterStderr.join('\n');
  return { sshResult: sshResult!, stageResults, bytes };
}

function outcomeOf(command: string, child: ChildProcess): Promise<ProcessOutcome> {
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  if (command !== 'pv') child.stderr?.on('data', (text: string) => { stderr = (stderr + text).slice(-8000); });
  return new Promise((resolve) => {
    child.on('error', (error) => { stderr += String(error); });
    child.on('close', (code, signal) => resolve({ command, exitCode: code ?? (signal ? 128 : -1), stderr }));
  });
}

/**
 * The portable path, for hosts without `pv`: the bytes pass through one counting (and, with a
 * limit, pacing) Transform here, with node's backpressure between every segment.
 */
async function runNodePipeline(input: PipelineInput): Promise<PipelineOutcome> {
  const stages = input.stages.map(([command, ...args]) =>
    execa(command!, args, { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: { stdout: false, stderr: true }, cancelSignal: input.signal, reject: false }),
  );
  const ssh = execa('ssh', input.sshArgv, { stdin: 'pipe', stdout: 'ignore', stderr: 'pipe', buffer: { stdout: false, stderr: true }, cancelSignal: input.signal, reject: false });
  const meter = createMeter(input.onBytes, input.bytesPerSecond);
  const segments = [
    pipeline(input.send.stdout, meter, stages[0]?.stdin ?? ssh.stdin),
    ...stages.map((stage, index) => pipeline(stage.stdout, stages[index + 1]?.stdin ?? ssh.stdin)),
  ];
  // If any end dies, stop the others: a half-open pipe would hang forever.
  const piping = Promise.all(segments).then(
    () => undefined,
    (error: unknown) => {
      input.abort();
      return error;
    },
  );
  const [sshDone, stagesDone, pipeError] = await Promise.all([ssh, Promise.all(stages), piping]);
  const outcome = (command: string, done: { exitCode?: number | undefined; stderr?: unknown }): ProcessOutcome => ({ command, exitCode: done.exitCode ?? -1, stderr: String(done.stderr ?? '') });
  return {
    sshResult: outcome('ssh', sshDone),
    stageResults: stagesDone.map((done, index) => outcome(input.stages[index]![0]!, done)),
    ...(pipeError ? { pipeError } : {}),
    bytes: meter.bytes(),
  };
}
