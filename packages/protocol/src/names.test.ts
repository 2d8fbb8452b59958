import { describe, expect, it } from 'vitest';
import { explainDatasetName, explainSnapshotName } from './names.ts';

describe('dataset and snapshot names follow zfs', () => {
  it.each(['tank/with space', 'tank/a:b.c-d_e', 'tank/o/with space/x', 'pool 2/data'])('accepts %j, as zfs create does', (name) => {
    expect(explainDatasetName(name)).toBeUndefined();
  });

  it.each([
    ['tank/tmp%clone', /outside letters, digits, space/],
    ['tank/a\nb', /outside/],
    ['tank/a\0b', /outside/],
    ['tank/a;rm', /outside/],
    ['tank/..', /component "\.\."/],
    ['tank/-x', /starts with "-"/],
    ['1tank/a', /must start with a letter/],
    ['tank//a', /empty component/],
  ])('refuses %j', (name, reason) => {
    expect(explainDatasetName(name)).toMatch(reason);
  });

  it('takes a snapshot named "manual snap" and refuses "%" and a leading "-"', () => {
    expect(explainSnapshotName('manual snap')).toBeUndefined();
    expect(explainSnapshotName('a%b')).toMatch(/outside/);
    expect(explainSnapshotName('-R')).toMatch(/starts with "-"/);
  });
});
