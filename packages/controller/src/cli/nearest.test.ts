import { describe, expect, test } from 'vitest';
import { editDistance, nearest } from './nearest.ts';

const KNOWN = ['backup', 'plan', 'run', 'status', 'restore', 'verify', 'hosts', 'agent', 'keys', 'doctor', 'help', 'version', 'completion'];

describe('nearest', () => {
  test.each([
    ['stauts', 'status'],
    ['back', 'backup'],
    ['bakup', 'backup'],
    ['prune', 'run'],
    ['verfiy', 'verify'],
    ['key', 'keys'],
    ['xyzzy', undefined],
    ['q', undefined],
  ])('%s → %s', (word, expected) => {
    expect(nearest(word, KNOWN)).toBe(expected);
  });

  test('edit distance counts insertions, deletions and substitutions', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });
});
