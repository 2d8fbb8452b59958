import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findWireTools, planWire } from './wire.ts';

const all = { zstd: true, lz4: true, mbuffer: true, pv: true };
const none = { zstd: false, lz4: false, mbuffer: false, pv: false };

describe('planWire', () => {
  it('sends plain when nothing is configured', () => {
    expect(planWire({ stallTimeout: 300_000, compression: 'none' }, all, all)).toEqual({ local: [], compression: 'none', notes: [] });
  });

  it('compresses on the source and decompresses on the peer when both have the tool', () => {
    const plan = planWire({ stallTimeout: 300_000, compression: 'zstd' }, all, all);
    expect(plan.compression).toBe('zstd');
    expect(plan.local).toEqual([['zstd', '-c', '-q', '-3', '-T0']]);
    expect(plan.decompress).toBe('zstd');
  });

  it('falls back to plain, and says why, when the peer lacks the tool', () => {
    const plan = planWire({ stallTimeout: 300_000, compression: 'lz4' }, all, { ...all, lz4: false });
    expect(plan).toMatchObject({ compression: 'none', local: [] });
    expect(plan.decompress).toBeUndefined();
    expect(plan.notes).toEqual(['lz4 is missing on the peer; sending uncompressed']);
  });

  it('buffers with mbuffer after compression, only where the source has it', () => {
    expect(planWire({ stallTimeout: 300_000, compression: 'zstd', buffer: '256M' }, all, all).local.map((stage) => stage[0])).toEqual(['zstd', 'mbuffer']);
    expect(planWire({ stallTimeout: 300_000, compression: 'none', buffer: '256M' }, none, none).notes).toEqual(['mbuffer is missing on the source; sending unbuffered']);
  });
});

describe('findWireTools', () => {
  it('finds executables on PATH without running them', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'wire-'));
    await writeFile(path.join(directory, 'zstd'), '#!/bin/sh\n');
    await chmod(path.join(directory, 'zstd'), 0o755);
    await writeFile(path.join(directory, 'lz4'), 'not executable');
    expect(await findWireTools(directory)).toEqual({ zstd: true, lz4: false, mbuffer: false, pv: false, age: false });
  });
});
