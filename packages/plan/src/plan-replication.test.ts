import { describe, expect, it } from 'vitest';
import { joinDataset, type DatasetTree } from '@zfs-fleet/protocol';
import type { PlanInput, ReplicationStep } from './steps.ts';
import { PEER_ROOT, peerTree, planFor, snapshot, sourceTree, toPeer, type DatasetSpec } from './trees.fixture.ts';

interface Case {
  title: string;
  source: Record<string, DatasetSpec>;
  peer: Record<string, DatasetSpec>;
  input?: Partial<PlanInput>;
  /** Matched against the single step with toMatchObject. */
  expected: Record<string, unknown>;
  /** Properties the step must not have. */
  absent?: string[];
  reasonContains?: string[];
  warnings?: string[];
}

const singleDatasetCases: Case[] = [
  {
    title: 'a dataset new on the peer gets its whole history: the oldest snapshot in full, then up to the newest',
    source: { 'tank/a': ['s1', 's2'] },
    peer: {},
    expected: { kind: 'full', dataset: 'tank/a', destination: toPeer('tank/a'), recursive: false, history: { name: 's1' }, to: { name: 's2' }, force: false },
    absent: ['replace', 'warnings'],
  },
  {
    title: 'a dataset with one snapshot needs no history',
    source: { 'tank/a': ['s1'] },
    peer: {},
    expected: { kind: 'full', to: { name: 's1' } },
    absent: ['history'],
  },
  {
    title: 'a chosen target bounds the history: snapshots after it are not sent',
    source: { 'tank/a': ['s1', 's2', 's3'] },
    peer: {},
    input: { target: snapshot('s2') },
    expected: { kind: 'full', history: { name: 's1' }, to: { name: 's2' } },
  },
  {
    title: 'with --force a replaced peer dataset gets the whole history too',
    source: { 'tank/a': ['s1', 's2'] },
    peer: { 'tank/a': ['x1=11'] },
    input: { force: true },
    expected: { kind: 'full', history: { name: 's1' }, to: { name: 's2' }, replace: { snapshotsToDestroy: [{ name: 'x1', guid: '11' }] } },
  },
  {
    title: 'a snapshot name the source reused (destroyed, taken again) that the peer holds with the old data blocks, naming it',
    source: { 'tank/a': ['a', 'b', 'dup#300'] },
    peer: { 'tank/a': ['a#10', 'dup=999#11', 'b#12'] },
    expected: { kind: 'blocked', code: 'SNAPSHOT_NAME_CONFLICT', details: { base: 'b', snapshots: ['dup'] } },
    reasonContains: ['@dup', '--force would destroy that copy'],
  },
  {
    title: 'with --force the peer snapshot whose name is reused is destroyed (guid-checked), then the incremental runs',
    source: { 'tank/a': ['a', 'b', 'dup#300'] },
    peer: { 'tank/a': ['a#10', 'dup=999#11', 'b#12'] },
    input: { force: true },
    expected: { kind: 'incremental', from: { name: 'b' }, to: { name: 'dup' }, force: true, rollback: [], conflicting: [{ name: 'dup', guid: '999' }] },
  },
  {
    title: 'a reused name outside the range the incremental delivers is no conflict',
    source: { 'tank/a': ['dup#5', 'a', 'b', 'c'] },
    peer: { 'tank/a': ['dup=999#9', 'a#10', 'b#12'] },
    expected: { kind: 'incremental', from: { name: 'b' }, to: { name: 'c' } },
    absent: ['conflicting'],
  },
  {
    title: 'a dataset sharing a snapshot gets an incremental from the newest shared one',
    source: { 'tank/a': ['s1', 's2', 's3'] },
    peer: { 'tank/a': ['s1', 's2'] },
    expected: { kind: 'incremental', from: { name: 's2' }, to: { name: 's3' }, force: false, rollback: [] },
  },
  {
    title: 'a chosen base (restore --start) replaces the newest common one',
    source: { 'tank/a': ['s1', 's2', 's3'] },
    peer: { 'tank/a': ['s1', 's2'] },
    input: { base: 's1' as never, force: true },
    expected: { kind: 'incremental', from: { name: 's1' }, to: { name: 's3' }, rollback: [{ name: 's2' }] },
  },
  {
    title: 'a chosen base that is not on both sides blocks',
    source: { 'tank/a': ['s1', 's2', 's3'] },
    peer: { 'tank/a': ['s2'] },
    input: { base: 's1' as never },
    expected: { kind: 'blocked', code: 'BASE_MISSING', details: { base: 's1' } },
  },
  {
    title: 'an interrupted receive on the peer is resumed before anything else',
    source: { 'tank/a': ['s1', 's2'] },
    peer: { 'tank/a': { snapshots: ['s1'], resumeToken: '1-abc' } },
    expected: { kind: 'resume', token: '1-abc' },
  },
  {
    title: 'a peer holding the target is up to date',
    source: { 'tank/a': ['s1', 's2'] },
    peer: { 'tank/a': ['s1', 's2'] },
    expected: { kind: 'up-to-date', at: { name: 's2' } },
    absent: ['warnings'],
  },
  {
    title: 'snapshots are ordered by createtxg, not by name',
    source: { 'tank/a': ['zz-old', 'aa-new'] },
    peer: { 'tank/a': ['zz-old'] },
    expected: { kind: 'incremental', from: { name: 'zz-old' }, to: { name: 'aa-new' } },
  },
  {
    title: 'snapshots are ordered by createtxg, not by list position',
    source: { 'tank/a': ['s3#30', 's1#10', 's2#20'] },
    peer: { 'tank/a': ['s1#5', 's2#6'] },
    expected: { kind: 'incremental', from: { name: 's2' }, to: { name: 's3', createtxg: 30 } },
  },
  {
    title: 'a snapshot with the same name but another guid is not a base, and a warning says so',
    source: { 'tank/a': ['x', 's1', 's2'] },
    peer: { 'tank/a': ['x=999', 's1'] },
    expected: { kind: 'incremental', from: { name: 's1' }, to: { name: 's2' }, rollback: [] },
    warnings: ['@x exists on both sides with different guids (different data); it is not used as a base.'],
  },
  {
    title: 'a colliding snapshot newer than the base counts as the peer being ahead',
    source: { 'tank/a': ['s1', 's2', 's3'] },
    peer: { 'tank/a': ['s1', 's2=999'] },
    expected: { kind: 'blocked', code: 'DESTINATION_AHEAD', details: { base: 's1', snapshots: ['s2'] } },
    warnings: ['@s2 exists on both sides with different guids (different data); it is not used as a base.'],
  },
  {
    title: 'with --force a colliding newer snapshot is rolled back, the warning kept',
    source: { 'tank/a': ['s1', 's2', 's3'] },
    peer: { 'tank/a': ['s1', 's2=999'] },
    input: { force: true },
    expected: { kind: 'incremental', from: { name: 's1' }, to: { name: 's3' }, force: true, rollback: [{ name: 's2', guid: '999' }] },
    warnings: ['@s2 exists on both sides with different guids (different data); it is not used as a base.'],
  },
  {
    title: 'a peer with snapshots but none shared is blocked, naming what --force destroys',
    source: { 'tank/a': ['s1'] },
    peer: { 'tank/a': { snapshots: ['x1=11', 'x2=12'], bytes: 5_000_000 } },
    expected: { kind: 'blocked', code: 'NO_COMMON_SNAPSHOT', details: { snapshots: ['x1', 'x2'], referencedBytes: 5_000_000 } },
    reasonContains: [`"${toPeer('tank/a')}"`, '2 snapshot(s)', '5.0 MB', '--force would destroy its snapshots @x1, @x2 and replace its data'],
  },
  {
    title: 'with --force a peer with no shared snapshot is replaced, listing what goes',
    source: { 'tank/a': ['s1'] },
    peer: { 'tank/a': { snapshots: ['x1=11', 'x2=12'], bytes: 5_000_000 } },
    input: { force: true },
    expected: {
      kind: 'full',
      to: { name: 's1' },
      force: true,
      replace: {
        snapshotsToDestroy: [
          { name: 'x1', guid: '11' },
          { name: 'x2', guid: '12' },
        ],
        referencedBytes: 5_000_000,
      },
    },
  },
  {
    title: 'a long list of snapshots to destroy is shortened in the reason but complete in details',
    source: { 'tank/a': ['s1'] },
    peer: { 'tank/a': ['x1=1', 'x2=2', 'x3=3', 'x4=4', 'x5=5', 'x6=6', 'x7=7'] },
    expected: { kind: 'blocked', code: 'NO_COMMON_SNAPSHOT', details: { snapshots: ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'] } },
    reasonContains: ['@x1, @x2, @x3, @x4, @x5 and 2 more'],
  },
  {
    title: 'a peer dataset holding data but no snapshots is blocked',
    source: { 'tank/a': ['s1'] },
    peer: { 'tank/a': { snapshots: [], bytes: 50_000_000 } },
    expected: { kind: 'blocked', code: 'DESTINATION_NOT_EMPTY', details: { snapshots: [], referencedBytes: 50_000_000 } },
    reasonContains: ['50.0 MB', 'no snapshots', 'not created by zfs-fleet', '--force would replace its data'],
  },
  {
    title: 'with --force a peer dataset holding data but no snapshots is replaced',
    source: { 'tank/a': ['s1'] },
    peer: { 'tank/a': { snapshots: [], bytes: 50_000_000 } },
    input: { force: true },
    expected: { kind: 'full', force: true, replace: { snapshotsToDestroy: [], referencedBytes: 50_000_000 } },
  },
  {
    title: 'a dataset zfs-fleet created, still without snapshots, is received over without --force',
    source: { 'tank/a': ['s1'] },
    peer: { 'tank/a': { snapshots: [], bytes: 24_576, createdByFleet: true } },
    expected: { kind: 'full', to: { name: 's1' }, force: true },
    absent: ['replace'],
  },
  {
    title: 'a small dataset zfs-fleet did not create (a few config files) is blocked, however small',
    source: { 'tank/a': ['s1'] },
    peer: { 'tank/a': { snapshots: [], bytes: 10_240 } },
    expected: { kind: 'blocked', code: 'DESTINATION_NOT_EMPTY', details: { snapshots: [], referencedBytes: 10_240 } },
    reasonContains: ['not created by zfs-fleet'],
  },
  {
    title: 'a dataset whose mark is not local (received or inherited) is no proof of origin and is blocked',
    source: { 'tank/a': ['s1'] },
    peer: { 'tank/a': { snapshots: [], bytes: 24_576, createdByFleet: false } },
    expected: { kind: 'blocked', code: 'DESTINATION_NOT_EMPTY' },
  },
  {
    title: 'a dataset zfs-fleet created that has snapshots now is not empty: no shared snapshot blocks',
    source: { 'tank/a': ['s1'] },
    peer: { 'tank/a': { snapshots: ['x1=11'], createdByFleet: true } },
    expected: { kind: 'blocked', code: 'NO_COMMON_SNAPSHOT' },
  },
  {
    title: 'a peer with snapshots newer than the base is blocked, listing them',
    source: { 'tank/a': ['s1', 's2'] },
    peer: { 'tank/a': ['s1', 'local1=21', 'local2=22'] },
    expected: { kind: 'blocked', code: 'DESTINATION_AHEAD', details: { base: 's1', snapshots: ['local1', 'local2'] } },
    reasonContains: ['@local1, @local2', '--force would roll back (destroy) them'],
  },
  {
    title: 'with --force a peer ahead of the base is rolled back',
    source: { 'tank/a': ['s1', 's2'] },
    peer: { 'tank/a': ['s1', 'local1=21', 'local2=22'] },
    input: { force: true },
    expected: { kind: 'incremental', from: { name: 's1' }, to: { name: 's2' }, force: true, rollback: [{ name: 'local1' }, { name: 'local2' }] },
  },
  {
    title: 'with --force and nothing ahead the incremental still receives with -F (undoes changes to the live peer dataset)',
    source: { 'tank/a': ['s1', 's2'] },
    peer: { 'tank/a': ['s1'] },
    input: { force: true },
    expected: { kind: 'incremental', force: true, rollback: [] },
  },
  {
    title: 'being ahead is judged on the peer’s own createtxg, not the source’s',
    source: { 'tank/a': ['s1#500', 's2#600'] },
    peer: { 'tank/a': ['old=7#10', 's1#20'] },
    expected: { kind: 'incremental', from: { name: 's1' }, to: { name: 's2' }, rollback: [] },
  },
  {
    title: 'a peer that kept pruned snapshots or made newer ones is up to date, with a warning and nothing destroyed',
    source: { 'tank/a': ['s3'] },
    peer: { 'tank/a': ['s1', 's2', 's3', 'extra=5'] },
    expected: { kind: 'up-to-date', at: { name: 's3' } },
    warnings: [`"${toPeer('tank/a')}" has snapshots newer than @s3: @extra; left alone.`],
  },
  {
    title: '--force-full with a shared snapshot still needs --force to replace the peer',
    source: { 'tank/a': ['s1', 's2'] },
    peer: { 'tank/a': ['s1'] },
    input: { forceFull: true },
    expected: { kind: 'blocked', code: 'DESTINATION_NOT_EMPTY', details: { snapshots: ['s1'] } },
    reasonContains: ['--force-full needs to replace', '--force would destroy its snapshots @s1'],
  },
  {
    title: '--force-full with --force replaces the peer, listing what goes',
    source: { 'tank/a': ['s1', 's2'] },
    peer: { 'tank/a': ['s1'] },
    input: { forceFull: true, force: true },
    expected: { kind: 'full', to: { name: 's2' }, force: true, replace: { snapshotsToDestroy: [{ name: 's1' }] } },
  },
  {
    title: '--force-full on an up-to-date peer is blocked too',
    source: { 'tank/a': ['s1'] },
    peer: { 'tank/a': ['s1'] },
    input: { forceFull: true },
    expected: { kind: 'blocked', code: 'DESTINATION_NOT_EMPTY' },
  },
  {
    title: '--force-full onto a missing peer dataset is a plain full',
    source: { 'tank/a': ['s1', 's2'] },
    peer: {},
    input: { forceFull: true },
    expected: { kind: 'full', to: { name: 's2' }, force: false },
    absent: ['replace'],
  },
  {
    title: '--snapshot sends up to an older snapshot',
    source: { 'tank/a': ['s1', 's2', 's3'] },
    peer: { 'tank/a': ['s1'] },
    input: { target: snapshot('s2') },
    expected: { kind: 'incremental', from: { name: 's1' }, to: { name: 's2' } },
  },
  {
    title: '--snapshot older than what the peer has is up to date, with a warning',
    source: { 'tank/a': ['s1', 's2'] },
    peer: { 'tank/a': ['s1', 's2'] },
    input: { target: snapshot('s1') },
    expected: { kind: 'up-to-date', at: { name: 's1' } },
    warnings: [`"${toPeer('tank/a')}" has snapshots newer than @s1: @s2; left alone.`],
  },
  {
    title: '--snapshot that does not exist is blocked',
    source: { 'tank/a': ['s1'] },
    peer: {},
    input: { target: snapshot('nope') },
    expected: { kind: 'blocked', code: 'SNAPSHOT_NOT_FOUND', details: { snapshot: 'nope' } },
    reasonContains: ['"tank/a@nope" does not exist'],
  },
  {
    title: 'a dataset without snapshots is blocked',
    source: { 'tank/a': [] },
    peer: {},
    expected: { kind: 'blocked', code: 'SNAPSHOT_NOT_FOUND' },
    reasonContains: ['has no snapshots; take one first'],
  },
  {
    title: 'a root missing on the source is blocked',
    source: { 'tank/b': ['s1'] },
    peer: {},
    expected: { kind: 'blocked', code: 'DATASET_NOT_FOUND', dataset: 'tank/a' },
  },
];

describe('planReplication, one dataset', () => {
  it.each(singleDatasetCases)('$title', ({ source, peer, input, expected, absent, reasonContains, warnings }) => {
    const { steps } = planFor(sourceTree(source), peerTree(peer), input);
    expect(steps).toHaveLength(1);
    const step = steps[0]!;
    expect(step).toMatchObject(expected);
    for (const key of absent ?? []) expect(step).not.toHaveProperty(key);
    for (const text of reasonContains ?? []) expect(step.kind === 'blocked' ? step.reason : '').toContain(text);
    if (warnings) expect(step.warnings).toEqual(warnings);
  });
});

interface TreeCase {
  title: string;
  source: Record<string, DatasetSpec>;
  peer: Record<string, DatasetSpec>;
  input?: Partial<PlanInput>;
  /** Matched step by step (same length) with toMatchObject. */
  expected: Record<string, unknown>[];
}

const treeCases: TreeCase[] = [
  {
    title: 'a tree new on the peer is one -R full stream',
    source: { 'tank/a': ['s1'], 'tank/a/b': ['s1'], 'tank/a/b/c': ['s1'] },
    peer: {},
    expected: [{ dataset: 'tank/a', kind: 'full', recursive: true, to: { name: 's1' }, force: false }],
  },
  {
    title: 'a new tree whose newest snapshots differ is sent per dataset',
    source: { 'tank/a': ['s1'], 'tank/a/b': ['s1', 's2'] },
    peer: {},
    expected: [
      { dataset: 'tank/a', kind: 'full', recursive: false, to: { name: 's1' } },
      { dataset: 'tank/a/b', kind: 'full', recursive: false, to: { name: 's2' } },
    ],
  },
  {
    title: 'a new tree whose root lands on a dataset zfs-fleet created is sent per dataset, -F only for the root',
    source: { 'tank/a': ['s1'], 'tank/a/b': ['s1'] },
    peer: { 'tank/a': { snapshots: [], bytes: 24_576, createdByFleet: true } },
    expected: [
      { dataset: 'tank/a', kind: 'full', recursive: false, force: true },
      { dataset: 'tank/a/b', kind: 'full', recursive: false, force: false },
    ],
  },
  {
    title: 'a dataset zfs-fleet created whose children already hold copies is received over without -R, so the children stay',
    source: { 'tank/a': ['s1'], 'tank/a/b': ['s1'] },
    peer: { 'tank/a': { snapshots: [], createdByFleet: true }, 'tank/a/b': ['s1'] },
    expected: [
      { dataset: 'tank/a', kind: 'full', recursive: false, force: true },
      { dataset: 'tank/a/b', kind: 'up-to-date' },
    ],
  },
  {
    title: 'a tree sharing one base is one -R incremental, without -F',
    source: { 'tank/a': ['s1', 's2'], 'tank/a/b': ['s1', 's2'] },
    peer: { 'tank/a': ['s1'], 'tank/a/b': ['s1'] },
    expected: [{ dataset: 'tank/a', kind: 'incremental', recursive: true, from: { name: 's1' }, to: { name: 's2' }, force: false, rollback: [] }],
  },
  {
    title: 'a tree sharing one base gets -F when deletions are mirrored, listing what -F deletes',
    source: { 'tank/a': ['s1', 's2'], 'tank/a/b': ['s1', 's2'] },
    peer: { 'tank/a': ['s0', 's1'], 'tank/a/b': ['s1'], 'tank/a/gone': ['s1'] },
    input: { mirrorDeletions: true },
    expected: [
      {
        dataset: 'tank/a',
        kind: 'incremental',
        recursive: true,
        force: true,
        warnings: [`mirroring deletions: receiving with -F destroys @s0 on "${toPeer('tank/a')}", which the source no longer has.`, `mirroring deletions: receiving with -F destroys "${toPeer('tank/a/gone')}", which the source no longer has.`],
      },
    ],
  },
  {
    title: 'with --force a tree is sent per dataset, so -F does not also mirror deletions',
    source: { 'tank/a': ['s1', 's2'], 'tank/a/b': ['s1', 's2'] },
    peer: { 'tank/a': ['s1'], 'tank/a/b': ['s1'] },
    input: { force: true },
    expected: [
      { dataset: 'tank/a', kind: 'incremental', recursive: false, force: true },
      { dataset: 'tank/a/b', kind: 'incremental', recursive: false, force: true },
    ],
  },
  {
    title: 'a child added since the last run gets a full stream, the others incrementals',
    source: { 'tank/a': ['s1', 's2'], 'tank/a/new': ['s2'], 'tank/a/old': ['s1', 's2'] },
    peer: { 'tank/a': ['s1'], 'tank/a/old': ['s1'] },
    expected: [
      { dataset: 'tank/a', kind: 'incremental', recursive: false, from: { name: 's1' } },
      { dataset: 'tank/a/new', kind: 'full', recursive: false, to: { name: 's2' }, force: false },
      { dataset: 'tank/a/old', kind: 'incremental', recursive: false, from: { name: 's1' } },
    ],
  },
  {
    title: 'excluded children and their subtrees are left out, and the tree is not sent with -R',
    source: { 'tank/a': ['s1'], 'tank/a/keep': ['s1'], 'tank/a/scratch': ['s1'], 'tank/a/scratch/deep': ['s1'] },
    peer: {},
    input: { exclude: ['scratch'] },
    expected: [
      { dataset: 'tank/a', kind: 'full', recursive: false },
      { dataset: 'tank/a/keep', kind: 'full', recursive: false },
    ],
  },
  {
    title: 'a child whose base vanished on the source is blocked alone, the others proceed',
    source: { 'tank/a': ['s1', 's2'], 'tank/a/b': ['s2'], 'tank/a/c': ['s1', 's2'] },
    peer: { 'tank/a': ['s1'], 'tank/a/b': ['s1'], 'tank/a/c': ['s1'] },
    expected: [
      { dataset: 'tank/a', kind: 'incremental', recursive: false },
      { dataset: 'tank/a/b', kind: 'blocked', code: 'NO_COMMON_SNAPSHOT' },
      { dataset: 'tank/a/c', kind: 'incremental', recursive: false },
    ],
  },
  {
    title: 'a blocked parent blocks the children that would be received below it; children already on the peer proceed alone',
    source: { 'tank/a': ['s1', 's2'], 'tank/a/b': ['s1', 's2'], 'tank/a/b/c': ['s2'], 'tank/a/new': ['s2'] },
    peer: { 'tank/a': ['s1', 'local=9'], 'tank/a/b': ['s1'] },
    expected: [
      { dataset: 'tank/a', kind: 'blocked', code: 'DESTINATION_AHEAD' },
      { dataset: 'tank/a/b', kind: 'incremental', from: { name: 's1' }, to: { name: 's2' } },
      { dataset: 'tank/a/b/c', kind: 'full' },
      { dataset: 'tank/a/new', kind: 'blocked', code: 'DESTINATION_AHEAD', reason: 'its parent "tank/a" is blocked, and it would be received below it.', details: { parent: 'tank/a' } },
    ],
  },
  {
    title: 'a child blocked for its own reason keeps that reason under a blocked parent',
    source: { 'tank/a': ['s1'], 'tank/a/b': [] },
    peer: { 'tank/a': ['x=1'] },
    expected: [
      { dataset: 'tank/a', kind: 'blocked', code: 'NO_COMMON_SNAPSHOT' },
      { dataset: 'tank/a/b', kind: 'blocked', code: 'SNAPSHOT_NOT_FOUND' },
    ],
  },
  {
    title: 'parents come before children whatever order the source listed them in',
    source: { 'tank/a/b-c': ['s1'], 'tank/a/b/c': ['s1'], 'tank/a': ['s1'], 'tank/a/b': ['s1', 's2'] },
    peer: {},
    expected: [{ dataset: 'tank/a' }, { dataset: 'tank/a/b' }, { dataset: 'tank/a/b/c' }, { dataset: 'tank/a/b-c' }],
  },
  {
    title: '--snapshot missing on a child created after it blocks that child only',
    source: { 'tank/a': ['s1', 's2'], 'tank/a/late': ['s2'], 'tank/a/b': ['s1', 's2'] },
    peer: {},
    input: { target: snapshot('s1') },
    expected: [
      { dataset: 'tank/a', kind: 'full', to: { name: 's1' } },
      { dataset: 'tank/a/b', kind: 'full', to: { name: 's1' } },
      { dataset: 'tank/a/late', kind: 'blocked', code: 'SNAPSHOT_NOT_FOUND' },
    ],
  },
  {
    title: 'an up-to-date tree is reported per dataset',
    source: { 'tank/a': ['s1'], 'tank/a/b': ['s1'] },
    peer: { 'tank/a': ['s1'], 'tank/a/b': ['s1'] },
    expected: [
      { dataset: 'tank/a', kind: 'up-to-date' },
      { dataset: 'tank/a/b', kind: 'up-to-date' },
    ],
  },
  {
    title: 'a tree partly up to date is planned per dataset',
    source: { 'tank/a': ['s1', 's2'], 'tank/a/b': ['s1'] },
    peer: { 'tank/a': ['s1'], 'tank/a/b': ['s1'] },
    expected: [
      { dataset: 'tank/a', kind: 'incremental', recursive: false },
      { dataset: 'tank/a/b', kind: 'up-to-date' },
    ],
  },
  {
    title: 'a warning anywhere keeps the tree per dataset, so the warning names its dataset',
    source: { 'tank/a': ['x', 's1', 's2'], 'tank/a/b': ['s1', 's2'] },
    peer: { 'tank/a': ['x=5', 's1'], 'tank/a/b': ['s1'] },
    expected: [
      { dataset: 'tank/a', kind: 'incremental', recursive: false, warnings: [expect.stringContaining('@x')] },
      { dataset: 'tank/a/b', kind: 'incremental', recursive: false },
    ],
  },
  {
    title: 'children are ignored when the entry is not recursive',
    source: { 'tank/a': ['s1'], 'tank/a/b': ['s1'] },
    peer: {},
    input: { recursive: false },
    expected: [{ dataset: 'tank/a', kind: 'full', recursive: false }],
  },
  {
    title: 'peer datasets whose source is gone are left alone',
    source: { 'tank/a': ['s1', 's2'] },
    peer: { 'tank/a': ['s1'], 'tank/a/gone': ['s1'] },
    input: { mirrorDeletions: true },
    expected: [{ dataset: 'tank/a', kind: 'incremental', recursive: false, force: false }],
  },
];

describe('planReplication, trees', () => {
  it.each(treeCases)('$title', ({ source, peer, input, expected }) => {
    const plan = planFor(sourceTree(source), peerTree(peer), { recursive: true, ...input });
    expect(plan.root).toBe('tank/a');
    expect(plan.steps).toMatchObject(expected);
  });

  it('never plans anything below a dataset outside the root', () => {
    const source: DatasetTree = sourceTree({ tank: ['s1'], 'tank/a': ['s1'], 'tank/ab': ['s1'] });
    const steps: ReplicationStep[] = planFor(source, peerTree({}), { recursive: true }).steps;
    expect(steps.map((step) => step.dataset)).toEqual(['tank/a']);
  });

  it('blocks only the child it cannot name, and plans its siblings', () => {
    const source: DatasetTree = sourceTree({ 'tank/a': ['s1', 's2'], 'tank/a/with space': ['s1', 's2'], 'tank/a/tmp%x': ['s1', 's2'], 'tank/a/tmp%x/below': ['s1', 's2'] });
    const peer = peerTree({ 'tank/a': ['s1'], 'tank/a/with space': ['s1'] });
    const steps = planFor(source, peer, { recursive: true }).steps;
    expect(steps.map((step) => [step.dataset, step.kind, step.kind === 'blocked' ? step.code : undefined]).sort()).toEqual([
      ['tank/a', 'incremental', undefined],
      ['tank/a/tmp%x', 'blocked', 'DATASET_NAME_INVALID'],
      ['tank/a/tmp%x/below', 'blocked', 'DATASET_NAME_INVALID'],
      ['tank/a/with space', 'incremental', undefined],
    ]);
  });

  it('blocks a dataset whose copy would get a name zfs refuses (too long below the receive root)', () => {
    const long = `tank/a/${'x'.repeat(240)}`;
    const steps = planFor(sourceTree({ 'tank/a': ['s1'], [long]: ['s1'] }), peerTree({}), { recursive: true, destinationOf: (name) => joinDataset(PEER_ROOT, name) }).steps;
    expect(steps.find((step) => step.dataset === long)).toMatchObject({ kind: 'blocked', code: 'DATASET_NAME_INVALID' });
    expect(steps.find((step) => step.dataset === 'tank/a')).toMatchObject({ kind: 'full' });
  });
});
