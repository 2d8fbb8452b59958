import { describe, expect, it } from 'vitest';
import type { DatasetName, DatasetTree, SnapshotName } from '@zfs-fleet/protocol';
import { describeStep, summarizePlan } from './describe.ts';
import { isExcluded } from './exclude.ts';
import { newestCommonSnapshot } from './common-snapshot.ts';
import { planReplication, type PlanInput, type ReplicationStep } from './plan-replication.ts';

/**
 * A tree from `{ dataset: ['s1', 's2'] }`. The same snapshot name on the same (source) dataset
 * gets the same guid on both sides, as a real replication would give; `name=guid` overrides.
 * createtxg follows list order, so names need not sort.
 */
function tree(spec: Record<string, string[]>, options: { bytes?: number; sourceOf?: (name: string) => string } = {}): DatasetTree {
  let txg = 100;
  return {
    datasets: Object.entries(spec).map(([name, snapshots]) => ({
      name: name as DatasetName,
      type: 'filesystem' as const,
      guid: guidOf(name, ''),
      referencedBytes: options.bytes ?? 32_768,
      snapshots: snapshots.map((entry) => {
        const [snapshot, guid] = entry.split('=') as [string, string | undefined];
        txg += 1;
        return { name: snapshot as SnapshotName, guid: guid ?? guidOf(options.sourceOf?.(name) ?? name, snapshot), createtxg: txg, createdAt: txg * 1000 };
      }),
    })),
  };
}

function guidOf(dataset: string, snapshot: string): string {
  let hash = 7n;
  for (const char of `${dataset}@${snapshot}`) hash = (hash * 31n + BigInt(char.charCodeAt(0))) % 18446744073709551557n;
  return hash.toString();
}

const PEER_ROOT = 'backup/fleet/src1';
const toPeer = (name: string) => `${PEER_ROOT}/${name}`;
const fromPeer = (name: string) => name.slice(PEER_ROOT.length + 1);

/** A destination tree whose snapshots share guids with the source's of the same name. */
function peer(spec: Record<string, string[]>, options: { bytes?: number } = {}): DatasetTree {
  return tree(Object.fromEntries(Object.entries(spec).map(([name, snapshots]) => [toPeer(name), snapshots])), { ...options, sourceOf: fromPeer });
}

function plan(source: DatasetTree, destination: DatasetTree, overrides: Partial<PlanInput> = {}) {
  return planReplication({
    source,
    destination,
    root: 'tank/a' as DatasetName,
    recursive: false,
    exclude: [],
    destinationOf: (dataset) => toPeer(dataset) as DatasetName,
    target: { kind: 'latest' },
    forceFull: false,
    force: false,
    mirrorDeletions: false,
    ...overrides,
  });
}

const only = (steps: ReplicationStep[]) => {
  expect(steps).toHaveLength(1);
  return steps[0]!;
};

describe('one dataset', () => {
  it('sends a full stream of the newest snapshot when the peer has nothing', () => {
    const step = only(plan(tree({ 'tank/a': ['s1', 's2'] }), peer({})).steps);
    expect(step).toMatchObject({ kind: 'full', to: { name: 's2' }, force: false, destination: 'backup/fleet/src1/tank/a' });
    expect(step).not.toHaveProperty('replace');
  });

  it('sends an incremental from the newest snapshot both sides share', () => {
    const step = only(plan(tree({ 'tank/a': ['s1', 's2', 's3'] }), peer({ 'tank/a': ['s1', 's2'] })).steps);
    expect(step).toMatchObject({ kind: 'incremental', from: { name: 's2' }, to: { name: 's3' }, force: false, rollback: [] });
  });

  it('is up to date when the peer has the target', () => {
    expect(only(plan(tree({ 'tank/a': ['s1', 's2'] }), peer({ 'tank/a': ['s1', 's2'] })).steps)).toMatchObject({ kind: 'up-to-date', at: { name: 's2' } });
  });

  it('orders by createtxg, not by name', () => {
    const step = only(plan(tree({ 'tank/a': ['zz-old', 'aa-new'] }), peer({ 'tank/a': ['zz-old'] })).steps);
    expect(step).toMatchObject({ kind: 'incremental', from: { name: 'zz-old' }, to: { name: 'aa-new' } });
  });

  it('does not take a snapshot with the same name but another guid as the base, and says so', () => {
    const step = only(plan(tree({ 'tank/a': ['s1', 's2', 's3'] }), peer({ 'tank/a': ['s1', 's2=999'] })).steps);
    expect(step).toMatchObject({ kind: 'blocked', code: 'DESTINATION_AHEAD' });
    expect(step.warnings).toEqual(['@s2 exists on both sides with different guids (different data); it is not used as a base.']);
  });

  it('uses an older shared snapshot when the newest name collides and the peer has nothing newer', () => {
    const step = only(plan(tree({ 'tank/a': ['s1', 's2'] }), peer({ 'tank/a': ['s1', 's9=999'] }), { force: true }).steps);
    expect(step).toMatchObject({ kind: 'incremental', from: { name: 's1' }, rollback: [{ name: 's9' }], force: true });
  });

  it('blocks when the destination has snapshots but none in common, naming what --force destroys', () => {
    const step = only(plan(tree({ 'tank/a': ['s1'] }), peer({ 'tank/a': ['x1=11', 'x2=12'] }, { bytes: 5_000_000 })).steps);
    expect(step).toMatchObject({ kind: 'blocked', code: 'NO_COMMON_SNAPSHOT', details: { snapshots: ['x1', 'x2'], referencedBytes: 5_000_000 } });
    expect(step.kind === 'blocked' && step.reason).toContain('--force would destroy its snapshots @x1, @x2 and replace its data');
  });

  it('replaces a destination with no common snapshot only with --force, listing what goes', () => {
    const step = only(plan(tree({ 'tank/a': ['s1'] }), peer({ 'tank/a': ['x1=11'] }), { force: true }).steps);
    expect(step).toMatchObject({ kind: 'full', force: true, replace: { snapshotsToDestroy: [{ name: 'x1', guid: '11' }] } });
  });

  it('blocks a destination that holds data but no snapshots', () => {
    const step = only(plan(tree({ 'tank/a': ['s1'] }), peer({ 'tank/a': [] }, { bytes: 50_000_000 })).steps);
    expect(step).toMatchObject({ kind: 'blocked', code: 'DESTINATION_NOT_EMPTY' });
  });

  it('receives into an existing empty destination (a freshly created dataset)', () => {
    expect(only(plan(tree({ 'tank/a': ['s1'] }), peer({ 'tank/a': [] }, { bytes: 24_576 })).steps)).toMatchObject({ kind: 'full', force: true });
  });

  it('blocks when the destination is ahead of the base, listing the newer snapshots', () => {
    const step = only(plan(tree({ 'tank/a': ['s1', 's2'] }), peer({ 'tank/a': ['s1', 'local1=21', 'local2=22'] })).steps);
    expect(step).toMatchObject({ kind: 'blocked', code: 'DESTINATION_AHEAD', details: { base: 's1', snapshots: ['local1', 'local2'] } });
    expect(step.kind === 'blocked' && step.reason).toContain('@local1, @local2');
  });

  it('rolls the destination back with --force', () => {
    const step = only(plan(tree({ 'tank/a': ['s1', 's2'] }), peer({ 'tank/a': ['s1', 'local1=21'] }), { force: true }).steps);
    expect(step).toMatchObject({ kind: 'incremental', from: { name: 's1' }, to: { name: 's2' }, force: true, rollback: [{ name: 'local1' }] });
  });

  it('sends a full stream with --force-full, but only replaces a destination with --force', () => {
    const source = tree({ 'tank/a': ['s1', 's2'] });
    const destination = peer({ 'tank/a': ['s1'] });
    expect(only(plan(source, destination, { forceFull: true }).steps)).toMatchObject({ kind: 'blocked', code: 'DESTINATION_NOT_EMPTY' });
    expect(only(plan(source, destination, { forceFull: true, force: true }).steps)).toMatchObject({ kind: 'full', to: { name: 's2' }, replace: { snapshotsToDestroy: [{ name: 's1' }] } });
    expect(only(plan(source, peer({}), { forceFull: true }).steps)).toMatchObject({ kind: 'full', force: false });
  });

  it('sends up to a chosen older snapshot', () => {
    const step = only(plan(tree({ 'tank/a': ['s1', 's2', 's3'] }), peer({ 'tank/a': ['s1'] }), { target: { kind: 'snapshot', name: 's2' as SnapshotName } }).steps);
    expect(step).toMatchObject({ kind: 'incremental', from: { name: 's1' }, to: { name: 's2' } });
  });

  it('blocks a chosen snapshot that does not exist', () => {
    expect(only(plan(tree({ 'tank/a': ['s1'] }), peer({}), { target: { kind: 'snapshot', name: 'nope' as SnapshotName } }).steps)).toMatchObject({ kind: 'blocked', code: 'SNAPSHOT_NOT_FOUND' });
  });

  it('blocks a dataset without snapshots, and a root that does not exist', () => {
    expect(only(plan(tree({ 'tank/a': [] }), peer({})).steps)).toMatchObject({ kind: 'blocked', code: 'SNAPSHOT_NOT_FOUND' });
    expect(only(plan(tree({ 'tank/b': ['s1'] }), peer({})).steps)).toMatchObject({ kind: 'blocked', code: 'DATASET_NOT_FOUND' });
  });

  it('reports up to date, and leaves alone, a peer that kept snapshots the source pruned or has newer ones', () => {
    const step = only(plan(tree({ 'tank/a': ['s3'] }), peer({ 'tank/a': ['s1', 's2', 's3', 'extra=5'] })).steps);
    expect(step).toMatchObject({ kind: 'up-to-date', at: { name: 's3' } });
    expect(step.warnings?.[0]).toContain('@extra');
  });
});

describe('recursive trees', () => {
  const recursive = { recursive: true } as const;

  it('sends a whole new tree as one -R stream', () => {
    const step = only(plan(tree({ 'tank/a': ['s1'], 'tank/a/b': ['s1'], 'tank/a/b/c': ['s1'] }), peer({}), recursive).steps);
    expect(step).toMatchObject({ kind: 'full', recursive: true, dataset: 'tank/a', to: { name: 's1' } });
  });

  it('sends a tree sharing one base as one -R incremental, without -F unless deletions are mirrored', () => {
    const source = tree({ 'tank/a': ['s1', 's2'], 'tank/a/b': ['s1', 's2'] });
    const destination = peer({ 'tank/a': ['s1'], 'tank/a/b': ['s1'] });
    expect(only(plan(source, destination, recursive).steps)).toMatchObject({ kind: 'incremental', recursive: true, force: false });
    expect(only(plan(source, destination, { ...recursive, mirrorDeletions: true }).steps)).toMatchObject({ kind: 'incremental', recursive: true, force: true });
  });

  it('plans per dataset when a child was added since the last run, parents first', () => {
    const { steps } = plan(tree({ 'tank/a': ['s1', 's2'], 'tank/a/new': ['s2'], 'tank/a/old': ['s1', 's2'] }), peer({ 'tank/a': ['s1'], 'tank/a/old': ['s1'] }), recursive);
    expect(steps.map((s) => [s.dataset, s.kind, 'recursive' in s && s.recursive])).toEqual([
      ['tank/a', 'incremental', false],
      ['tank/a/new', 'full', false],
      ['tank/a/old', 'incremental', false],
    ]);
  });

  it('leaves excluded children and their subtrees out', () => {
    const { steps } = plan(tree({ 'tank/a': ['s1'], 'tank/a/keep': ['s1'], 'tank/a/scratch': ['s1'], 'tank/a/scratch/deep': ['s1'] }), peer({}), { ...recursive, exclude: ['scratch'] });
    expect(steps.map((s) => s.dataset)).toEqual(['tank/a', 'tank/a/keep']);
    expect(steps.every((s) => s.kind === 'full' && !s.recursive)).toBe(true);
  });

  it('blocks alone a child whose base vanished on the source, the others proceed', () => {
    const { steps } = plan(tree({ 'tank/a': ['s1', 's2'], 'tank/a/b': ['s2'] }), peer({ 'tank/a': ['s1'], 'tank/a/b': ['s1'] }), recursive);
    expect(steps.map((s) => [s.dataset, s.kind])).toEqual([['tank/a', 'incremental'], ['tank/a/b', 'blocked']]);
    expect(steps[1]).toMatchObject({ code: 'NO_COMMON_SNAPSHOT' });
  });

  it('blocks a new child of a blocked parent, which could not be received below it', () => {
    const { steps } = plan(tree({ 'tank/a': ['s1'], 'tank/a/b': ['s1'] }), peer({ 'tank/a': ['x=1'] }), recursive);
    expect(steps.map((s) => [s.dataset, s.kind])).toEqual([['tank/a', 'blocked'], ['tank/a/b', 'blocked']]);
    expect(steps[1]!.kind === 'blocked' && steps[1]!.reason).toContain('parent "tank/a" is blocked');
  });

  it('reports an up-to-date tree per dataset', () => {
    const { steps } = plan(tree({ 'tank/a': ['s1'], 'tank/a/b': ['s1'] }), peer({ 'tank/a': ['s1'], 'tank/a/b': ['s1'] }), recursive);
    expect(summarizePlan({ root: 'tank/a' as DatasetName, steps })).toEqual({ full: 0, incremental: 0, upToDate: 2, blocked: 0 });
  });
});

describe('helpers', () => {
  it('finds the newest common snapshot by guid and lists name collisions', () => {
    const source = tree({ d: ['a', 'b', 'c'] }).datasets[0]!.snapshots;
    const destination = tree({ d: ['a', 'b=5', 'c=6'] }).datasets[0]!.snapshots;
    const result = newestCommonSnapshot(source, destination);
    expect(result.common?.name).toBe('a');
    expect(result.collisions).toEqual(['b', 'c']);
  });

  it.each([
    ['tank/a/scratch', ['scratch'], true],
    ['tank/a/scratch/x', ['scratch'], true],
    ['tank/a/scratchy', ['scratch'], false],
    ['tank/a/vm-1', ['vm-*'], true],
    ['tank/a/b/vm-1', ['vm-*'], false],
    ['tank/a/b/vm-1', ['*/vm-*'], true],
    ['tank/a/b', ['tank/a/b'], true],
    ['tank/a', ['*'], false],
  ] as const)('isExcluded(%s, %j) = %s', (dataset, patterns, expected) => {
    expect(isExcluded(dataset, 'tank/a', patterns)).toBe(expected);
  });

  it('describes steps in one line', () => {
    const step = only(plan(tree({ 'tank/a': ['s1', 's2'] }), peer({ 'tank/a': ['s1'] })).steps);
    expect(describeStep(step)).toBe('incremental @s1 → @s2');
  });
});
