import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { WireConfig, WireTools } from '@zfs-fleet/protocol';

/** Looks for the stream helpers on PATH without running them. */
export async function findWireTools(searchPath = process.env.PATH ?? ''): Promise<WireTools> {
  const directories = searchPath.split(path.delimiter).filter(Boolean);
  const has = async (name: string) =>
    Promise.any(directories.map((directory) => access(path.join(directory, name), constants.X_OK))).then(
      () => true,
      () => false,
    );
  const [zstd, lz4, mbuffer, pv, age] = await Promise.all([has('zstd'), has('lz4'), has('mbuffer'), has('pv'), has('age')]);
  return { zstd, lz4, mbuffer, pv, age };
}

export type Compression = 'zstd' | 'lz4';

export interface WirePlan {
  /** Processes between `zfs send` and ssh on the source, in order. */
  local: string[][];
  /** The decompressor before `zfs recv` on the peer, when the stream is compressed. */
  decompress?: Compression;
  compression: 'none' | Compression;
  /** Why a configured option is not used, for the log. */
  notes: string[];
}

const COMPRESSORS = {
  // -T0: all cores; level 3 keeps up with a gigabit link on one core.
  zstd: { compress: ['zstd', '-c', '-q', '-3', '-T0'], decompress: ['zstd', '-d', '-c', '-q'] },
  lz4: { compress: ['lz4', '-c', '-q'], decompress: ['lz4', '-d', '-c', '-q'] },
} as const;

export const COMPRESSIONS = Object.keys(COMPRESSORS) as Compression[];

/**
 * The one definition of a decompressor's argv: the source puts it in the peer's command and
 * the peer's restricted receive accepts exactly it, so the two cannot drift apart.
 */
export function decompressorArgv(compression: Compression): string[] {
  return [...COMPRESSORS[compression].decompress];
}

/** The compressor's argv, for the wire and for exports alike. */
export function compressorArgv(compression: Compression): string[] {
  return [...COMPRESSORS[compression].compress];
}

/**
 * The processes a stream passes through besides zfs and ssh. Compression is used only when
 * both ends have the tool (a stream the peer cannot decompress is worse than a slow one), and
 * mbuffer only when the source has it; the bandwidth limit is applied by the agent itself.
 */
export function planWire(wire: WireConfig, source: WireTools, peer: WireTools): WirePlan {
  const plan: WirePlan = { local: [], compression: 'none', notes: [] };
  if (wire.compression !== 'none') {
    if (source[wire.compression] && peer[wire.compression]) {
      plan.compression = wire.compression;
      plan.local.push([...COMPRESSORS[wire.compression].compress]);
      plan.decompress = wire.compression;
    } else {
      plan.notes.push(`${wire.compression} is missing on the ${source[wire.compression] ? 'peer' : 'source'}; sending uncompressed`);
    }
  }
  if (wire.buffer) {
    if (source.mbuffer) plan.local.push(['mbuffer', '-q', '-m', wire.buffer]);
    else plan.notes.push('mbuffer is missing on the source; sending unbuffered');
  }
  return plan;
}
