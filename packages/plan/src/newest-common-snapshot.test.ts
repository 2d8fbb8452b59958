import { describe, expect, it } from 'vitest';
import { newestCommonSnapshot } from './newest-common-snapshot.ts';
import { sourceTree } from './trees.fixture.ts';

const snapshotsOf = (snapshots: string[]) => sourceTree({ 'tank/a': snapshots }).datasets[0]!.snapshots;

describe('newestCommonSnapshot', () => {
  it.each([
    { title: 'nothing on the destination', source: ['a', 'b'], destination: [], common: undefined, collisions: [] },
    { title: 'the newest shared guid wins', source: ['a', 'b', 'c'], destination: ['a', 'b'], common: 'b', collisions: [] },
    { title: 'same names with other guids are collisions, never the base', source: ['a', 'b', 'c'], destination: ['a', 'b=5', 'c=6'], common: 'a', collisions: ['b', 'c'] },
    { title: 'a shared guid under another name is still the base', source: ['a', 'b'], destination: [`renamed=${snapshotsOf(['a', 'b'])[1]!.guid}`], common: 'b', collisions: [] },
    { title: 'newest by createtxg, not by list order', source: ['b#20', 'a#10'], destination: ['a', 'b'], common: 'b', collisions: [] },
    { title: 'nothing shared', source: ['a'], destination: ['x=1'], common: undefined, collisions: [] },
  ])('$title', ({ source, destination, common, collisions }) => {
    const result = newestCommonSnapshot(snapshotsOf(source), snapshotsOf(destination));
    expect(result.common?.name).toBe(common);
    expect(result.collisions).toEqual(collisions);
  });
});
