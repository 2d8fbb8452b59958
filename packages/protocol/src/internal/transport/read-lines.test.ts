import { PassThrough } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, test } from 'vitest';
import { previewLine, readLines } from './read-lines.ts';

function collect(chunks: Array<string | Buffer>, maxLineBytes?: number) {
  const input = new PassThrough();
  const lines: string[] = [];
  const oversized: string[] = [];
  const ended = new Promise<Error | undefined>((resolve) => {
    readLines(input, { ...(maxLineBytes === undefined ? {} : { maxLineBytes }), onLine: (line) => lines.push(line), onOversizedLine: (head) => oversized.push(head), onEnd: resolve });
  });
  for (const chunk of chunks) input.write(chunk);
  input.end();
  return ended.then((error) => ({ lines, oversized, error }));
}

describe('readLines', () => {
  test('splits lines across and within chunks, skipping blank ones', async () => {
    const { lines } = await collect(['{"a":1}\n{"b"', ':2}\n\n  \n{"c":3}\n{"d"', ':4}']);
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}']);
  });

  test('keeps a multi-byte character that is split between chunks', async () => {
    const bytes = Buffer.from('"zfs-fleet ✓ ünïcode"\n', 'utf8');
    const cut = bytes.indexOf(0x9c); // inside ✓ (e2 9c 93)
    const { lines } = await collect([bytes.subarray(0, cut), bytes.subarray(cut)]);
    expect(lines).toEqual(['"zfs-fleet ✓ ünïcode"']);
  });

  test('reports a line over the limit once, skips it, and reads on', async () => {
    const { lines, oversized } = await collect(['x'.repeat(40), 'y'.repeat(40), 'z'.repeat(40), '\nnext\n', 'w'.repeat(200), '\nlast\n'], 64);
    expect(oversized).toHaveLength(2);
    expect(oversized[0]?.startsWith('x'.repeat(40))).toBe(true);
    expect(lines).toEqual(['next', 'last']);
  });

  test('holds at most the limit of a 64 MiB line without a newline, then reads the next line', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const input = new PassThrough();
    const lines: string[] = [];
    const oversized: string[] = [];
    readLines(input, { onLine: (line) => lines.push(line), onOversizedLine: (head) => oversized.push(head), onEnd: () => {} });
    gc();
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    for (let mib = 0; mib < 64; mib += 1) {
      input.write(Buffer.alloc(1024 * 1024, 0x41));
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    input.write('\n{"after":true}\n');
    await new Promise((resolve) => setImmediate(resolve));
    // The 16 MiB limit, its one copy for the preview, and a chunk in flight.
    expect(peak).toBeLessThan(36 * 1024 * 1024);
    expect(oversized).toEqual(['A'.repeat(320)]);
    expect(lines).toEqual(['{"after":true}']);
  });

  test('reports a stream error through onEnd', async () => {
    const input = new PassThrough();
    const ended = new Promise<Error | undefined>((resolve) => {
      readLines(input, { onLine: () => {}, onOversizedLine: () => {}, onEnd: resolve });
    });
    input.destroy(new Error('reset'));
    await expect(ended).resolves.toMatchObject({ message: 'reset' });
  });
});

describe('previewLine', () => {
  test('quotes, escapes and cuts a line', () => {
    expect(previewLine('hi\u001b[0m')).toBe('"hi\\u001b[0m"');
    expect(previewLine('x'.repeat(200))).toBe(`"${'x'.repeat(80)}…"`);
  });
});
