import { describe, expect, it } from 'vitest';
import { sampleChunks } from './verify-exports.ts';

describe('sampleChunks', () => {
  it.each([
    [10, 100, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
    [10, 0, []],
    [10, 10, [0]],
    [10, 25, [0, 3, 6]],
    [10, 50, [0, 2, 4, 6, 8]],
    [3, 1, [0]],
    [0, 50, []],
  ])('%i chunks at %i% re-hashes %j: spread evenly, at least one when the share is not 0', (total, percent, expected) => {
    expect([...sampleChunks(total, percent)].sort((a, b) => a - b)).toEqual(expected);
  });
});
