import type pino from 'pino';
import type { DatasetName, ExportEvent } from '@zfs-fleet/protocol';
import type { ExportUnitReport } from '../export/export-report.ts';
import type { TransferProgress } from '../backup/run-backup.ts';
import type { SequenceStepReport } from '../sequence/sequence-report.ts';
import { formatBytes } from './format.ts';

export interface ProgressReporter {
  onProgress(progress: TransferProgress): void;
  /** A finished step of an entry's sequence (lock, hooks, snapshot, prune, unlock). */
  onStep(host: string, dataset: string, step: SequenceStepReport): void;
  /** An export's events, shown like a transfer to a peer named `target:NAME`. */
  onExport(unit: Pick<ExportUnitReport, 'host' | 'dataset' | 'target'>, event: ExportEvent): void;
  stop(): void;
}

/**
 * A live line per running transfer on a TTY (bytes, rate); structured log lines otherwise,
 * at most one per transfer every `logEveryMs`.
 */
export function createProgressReporter(options: { tty: boolean; stream: NodeJS.WriteStream; logger: pino.Logger; logEveryMs?: number }): ProgressReporter {
  const active = new Map<string, TransferLine>();
  const lastLogged = new Map<string, number>();
  let drawn = 0;

  const draw = () => {
    if (drawn > 0) options.stream.write(`\x1b[${drawn}A\x1b[J`);
    const lines = [...active.values()].map(formatProgressLine);
    if (lines.length > 0) options.stream.write(`${lines.join('\n')}\n`);
    drawn = lines.length;
  };

  const reporter: ProgressReporter = {
    onExport(unit, event) {
      const peer = `target:${unit.target}`;
      const index = 0;
      if (event.type === 'start') reporter.onProgress({ host: unit.host, peer, dataset: unit.dataset, event: { type: 'start', index, dataset: event.dataset as DatasetName, kind: event.kind, ...(event.estimatedBytes ? { estimatedBytes: event.estimatedBytes } : {}) } });
      else if (event.type === 'progress') reporter.onProgress({ host: unit.host, peer, dataset: unit.dataset, event: { type: 'progress', index, bytes: event.bytes, bytesPerSecond: event.bytesPerSecond } });
      else reporter.onProgress({ host: unit.host, peer, dataset: unit.dataset, event: { type: 'transferred', index, result: { dataset: event.manifest.dataset, kind: event.manifest.kind, bytes: event.manifest.stream.bytes, durationMs: event.durationMs } } });
    },
    onProgress({ host, peer, event }) {
      if (event.type === 'done') return;
      const key = `${host} ${peer} ${event.index}`;
      if (event.type === 'start') {
        active.set(key, { label: `${host} ${event.dataset} → ${peer} (${event.kind})`, bytes: 0, rate: 0, ...(event.estimatedBytes ? { estimatedBytes: event.estimatedBytes } : {}) });
      }
      const transfer = active.get(key);
      if (!transfer) return;
      if (event.type === 'progress') {
        transfer.bytes = event.bytes;
        transfer.rate = event.bytesPerSecond;
        // Nothing moved yet (the stream is still connecting): no rate, no ETA, nothing to say.
        if (!options.tty && event.bytes > 0) {
          const now = Date.now();
          if (now - (lastLogged.get(key) ?? 0) >= (options.logEveryMs ?? 5000)) {
            lastLogged.set(key, now);
            const eta = etaSeconds(transfer);
            options.logger.info(
              { host, peer, transfer: transfer.label, bytes: event.bytes, bytesPerSecond: Math.round(event.bytesPerSecond), ...(transfer.estimatedBytes ? { estimatedBytes: transfer.estimatedBytes } : {}), ...(eta !== undefined ? { etaSeconds: eta } : {}) },
              'transfer progress',
            );
          }
        }
      }
      if (event.type === 'transferred') active.delete(key);
      if (options.tty) draw();
    },
    onStep(host, dataset, step) {
      if (!options.tty) {
        options.logger.info({ host, dataset, step: step.step, status: step.status, ...(step.durationMs !== undefined ? { durationMs: step.durationMs } : {}), ...(step.detail ? { detail: step.detail } : {}), ...(step.error ? { err: step.error } : {}) }, 'sequence step');
        return;
      }
      // Above the live transfer lines, which are drawn again below it.
      if (drawn > 0) options.stream.write(`\x1b[${drawn}A\x1b[J`);
      drawn = 0;
      options.stream.write(`${formatStepLine(host, dataset, step)}\n`);
      draw();
    },
    stop() {
      if (options.tty && drawn > 0) options.stream.write(`\x1b[${drawn}A\x1b[J`);
      drawn = 0;
    },
  };
  return reporter;
}

interface TransferLine {
  label: string;
  bytes: number;
  rate: number;
  /** From `zfs send -nP` where the source's zfs can estimate; then a bar and an ETA show. */
  estimatedBytes?: number;
}

function etaSeconds(line: TransferLine): number | undefined {
  if (!line.estimatedBytes || line.rate <= 0) return undefined;
  return Math.max(0, Math.round((line.estimatedBytes - line.bytes) / line.rate));
}

/** `  src1 tank/a → backup1 (full)  [#####-----]  52%  12.0 MB  40.0 MB/s  ETA 0:03` */
export function formatProgressLine(line: TransferLine): string {
  const moved = `${formatBytes(line.bytes)}  ${formatBytes(line.rate)}/s`;
  const eta = etaSeconds(line);
  if (!line.estimatedBytes || eta === undefined) return `  ${line.label}  ${moved}`;
  const fraction = Math.min(1, line.bytes / line.estimatedBytes);
  const filled = Math.round(fraction * 20);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(20 - filled)}]`;
  return `  ${line.label}  ${bar} ${String(Math.round(fraction * 100)).padStart(3)}%  ${moved}  ETA ${Math.floor(eta / 60)}:${String(eta % 60).padStart(2, '0')}`;
}

/** `  src1 tank/a  preSnapshot  ok  1.2 s  (1 command(s))` */
export function formatStepLine(host: string, dataset: string, step: SequenceStepReport): string {
  const parts = [`  ${host} ${dataset}`, step.step, step.status];
  if (step.durationMs !== undefined && step.durationMs > 0) parts.push(`${(step.durationMs / 1000).toFixed(1)} s`);
  if (step.error) parts.push(`${step.error.code}: ${step.error.message}`);
  else if (step.detail) parts.push(step.detail);
  return parts.join('  ');
}
