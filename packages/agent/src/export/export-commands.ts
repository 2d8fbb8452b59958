import type { ExportInput } from '@zfs-fleet/protocol';
import { buildSendArgs } from '@zfs-fleet/zfs';
import { compressorArgv, decompressorArgv } from '../wire.ts';

/** Numbered so that a listing sorts them in stream order. */
export function chunkName(index: number, compression: 'zstd' | 'none'): string {
  return `${String(index).padStart(8, '0')}${compression === 'zstd' ? '.zst' : ''}.age`;
}

/** `zfs send` for one export: properties kept, raw for encrypted datasets, `-i` from the base alone. */
export function exportSendArgs(input: Pick<ExportInput, 'dataset' | 'snapshot' | 'base'>, raw: boolean): string[] {
  return buildSendArgs({
    snapshot: `${input.dataset}@${input.snapshot}`,
    properties: true,
    raw,
    ...(input.base ? { from: `${input.dataset}@${input.base.snapshot}` } : {}),
    // Differential and chained exports carry one snapshot each: a restore walks the chain.
    intermediates: false,
  });
}

/** Raw sends of encrypted datasets are incompressible ciphertext: never compressed. */
export function exportCompression(requested: 'zstd' | 'none', raw: boolean): 'zstd' | 'none' {
  return raw ? 'none' : requested;
}

export function compressArgv(): string[] {
  return compressorArgv('zstd');
}

export function decompressArgv(): string[] {
  return decompressorArgv('zstd');
}

/** Public keys in argv are no secret; the output goes straight to the spool file. */
export function encryptArgv(recipients: readonly string[], outputPath: string): string[] {
  return ['age', '--encrypt', ...recipients.flatMap((recipient) => ['-r', recipient]), '-o', outputPath];
}

/** The identity arrives through a FIFO the agent writes and closes: never argv, never a file's content on disk. */
export function decryptArgv(identityPath: string): string[] {
  return ['age', '--decrypt', '-i', identityPath];
}
