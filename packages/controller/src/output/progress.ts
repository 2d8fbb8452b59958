import type pino from 'pino';
import type { TransferProgress } from '../backup/run-backup.ts';
import { formatBytes } from './format.ts';

export interface ProgressReporter {
  onProgress(progress: TransferProgress): void;
  stop(): void;
}

/**
 * A live line per running transfer on a TTY (bytes, rate); structured log lines otherwise,
 * at most one per transfer every `logEveryMs`.
 */
export function createProgressReporter(options: { tty: boolean; stream: NodeJS.WriteStream; logger: pino.Logger; logEveryMs?: number }): ProgressReporter {
  const active = new Map<string, { label: string; bytes: number; rate: number }>();
  const lastLogged = new Map<string, number>();
  let drawn = 0;

  const draw = () => {
    if (drawn > 0) options.stream.write(`\x1b[${drawn}A\x1b[J`);
    const lines = [...active.values()].map((t) => `  ${t.label}  ${formatBytes(t.bytes)}  ${formatBytes(t.rate)}/s`);
    if (lines.length > 0) options.stream.write(`${lines.join('\n')}\n`);
    drawn = lines.length;
  };

  return {
    onProgress({ host, peer, event }) {
      if (event.type === 'done') return;
      const key = `${host} ${peer} ${event.index}`;
      if (event.type === 'start') active.set(key, { label: `${host} ${event.dataset} → ${peer} (${event.kind})`, bytes: 0, rate: 0 });
      const transfer = active.get(key);
      if (!transfer) return;
      if (event.type === 'progress') {
        transfer.bytes = event.bytes;
        transfer.rate = event.bytesPerSecond;
        if (!options.tty) {
          const now = Date.now();
          if (now - (lastLogged.get(key) ?? 0) >= (options.logEveryMs ?? 5000)) {
            lastLogged.set(key, now);
            options.logger.info({ host, peer, dataset: transfer.label, bytes: event.bytes, bytesPerSecond: Math.round(event.bytesPerSecond) }, 'transfer progress');
          }
        }
      }
      if (event.type === 'transferred') active.delete(key);
      if (options.tty) draw();
    },
    stop() {
      if (options.tty && drawn > 0) options.stream.write(`\x1b[${drawn}A\x1b[J`);
      drawn = 0;
    },
  };
}
