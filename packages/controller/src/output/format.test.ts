import { expect, test } from 'vitest';
import { formatBytes, formatDuration, formatTable } from './format.ts';

test.each([
  [0, '0 B'],
  [999, '999 B'],
  [1000, '1.0 kB'],
  [12_345_678, '12.3 MB'],
  [3e12, '3.0 TB'],
])('formatBytes(%d) is %s', (bytes, text) => {
  expect(formatBytes(bytes)).toBe(text);
});

test.each([
  [12, '12 ms'],
  [1500, '1.5 s'],
  [125_000, '2 min 5 s'],
])('formatDuration(%d) is %s', (ms, text) => {
  expect(formatDuration(ms)).toBe(text);
});

test('table columns align on the widest cell, ignoring colour codes', () => {
  expect(
    formatTable([
      ['a', '\x1b[32mok\x1b[0m', 'x'],
      ['long', 'failed', 'y'],
    ]),
  ).toBe('a     \x1b[32mok\x1b[0m      x\nlong  failed  y');
});
