import { describe, expect, it } from 'vitest';
import type { DatasetName, DatasetTree } from '@zfs-fleet/protocol';
import type { RetentionPolicy } from './apply-retention.ts';
import { destroysOf, planPrune, type HostPrune, type PruneInput } from './plan-prune.ts';

const DAY = 86_400_000;
const PEER_ROOT = 'backup/fleet/src1';
const toPeer = (name: DatasetName) => `${PEER_ROOT}/${name}` as DatasetName;

/**
 * `{ 'tank/a': ['d1', 'd2', 'd3!'] }`: snapshot `fleet-dN` taken at noon UTC of day N, with a
 * guid derived from the source dataset and name (a copy shares it); `!` marks a hold, a name
 * without the `d` prefix is foreign.
 */
function tree(spec: Record<string, string[]>, place: (name: DatasetName) => DatasetName = (name) => name): DatasetTree {
  return {
    datasets: Object.entries(spec).map(([name, snapshots]) => ({
      name: place(name as DatasetName),
      type: 'filesystem' as const,
      guid: `1${name.length}`,
      referencedBytes: 1,
      snapshots: snapshots.map((raw) => {
        const held = raw.endsWith('!');
        const short = raw.replace(/!$/, '');
        const day = Number(/^d(\d+)$/.exec(short)?.[1] ?? 0);
        return { name: (/^d\d+$/.test(short) ? `fleet-${short}` : short) as never, guid: `${name}@${short}`.length + String(day).padStart(3, '0') + name.replace(/\W/g, '').length, createtxg: day * 10 + 1, createdAt: day * DAY + DAY / 2, ...(held ? { holds: 1 } : {}) };
      }),
    })),
  };
}

interface Case {
  title: string;
  source: Record<string, string[]> | undefined;
  peer: Record<string, string[]> | undefined;
  keep?: RetentionPolicy;
  peerKeep?: RetentionPolicy;
  recursive?: boolean;
  /** Per host, the short names destroyed per dataset. */
  destroyed: Record<string, Record<string, string[]>>;
  skipped?: Record<string, RegExp>;
  reasons?: Record<string, Record<string, RegExp>>;
  /** What export chains still need (`keep.fulls`, #12), as the export step will pass it. */
  exportProtections?: ReadonlyMap<string, readonly string[]>;
}

const days = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => `d${from + index}`);

const cases: Case[] = [
  {
    title: 'source and peer are pruned to their own policies independently',
    source: { 'tank/a': days(1, 10) },
    peer: { 'tank/a': days(1, 10) },
    keep: { daily: 3 },
    peerKeep: { daily: 6 },
    destroyed: { src1: { 'tank/a': days(1, 7) }, backup1: { [toPeer('tank/a' as DatasetName)]: days(1, 4) } },
  },
  {
    title: 'the newest snapshot the peer shares is the next base and stays on the source, however old',
    source: { 'tank/a': days(1, 10) },
    peer: { 'tank/a': days(1, 4) },
    keep: { daily: 2 },
    peerKeep: { daily: 1 },
    destroyed: { src1: { 'tank/a': [...days(1, 3), ...days(5, 8)] }, backup1: { [toPeer('tank/a' as DatasetName)]: days(1, 3) } },
    reasons: { src1: { 'fleet-d4': /incremental base for backup1/ }, backup1: { 'fleet-d4': /incremental base from src1.*newest copy|newest/ } },
  },
  {
    title: 'a held and a foreign snapshot survive maxAge 1d on both sides',
    source: { 'tank/a': ['d1!', 'autosnap_x', ...days(2, 10)] },
    peer: { 'tank/a': ['d1', 'autosnap_x', ...days(2, 10)] },
    keep: { maxAgeMs: DAY },
    destroyed: { src1: { 'tank/a': days(2, 9) }, backup1: { [toPeer('tank/a' as DatasetName)]: ['d1', ...days(2, 9)] } },
    reasons: { src1: { 'fleet-d1': /held/, autosnap_x: /foreign/ } },
  },
  {
    title: 'a peer that could not be read leaves the source untouched: its base is unknown',
    source: { 'tank/a': days(1, 10) },
    peer: undefined,
    keep: { daily: 1 },
    destroyed: { src1: {}, backup1: {} },
    skipped: { src1: /could not read peer backup1/, backup1: /could not read backup1/ },
  },
  {
    title: 'a source that could not be read leaves the peer untouched',
    source: undefined,
    peer: { 'tank/a': days(1, 10) },
    keep: { daily: 1 },
    destroyed: { src1: {}, backup1: {} },
    skipped: { src1: /could not read src1/, backup1: /could not read the source src1/ },
  },
  {
    title: 'an entry without keep: prunes nothing anywhere',
    source: { 'tank/a': days(1, 10) },
    peer: { 'tank/a': days(1, 10) },
    destroyed: { src1: {}, backup1: {} },
    skipped: { src1: /no keep/, backup1: /no peerKeep/ },
  },
  {
    title: 'a recursive entry keeps the same names on every dataset of the tree, held anywhere means kept everywhere',
    source: { 'tank/a': days(1, 6), 'tank/a/b': ['d1', 'd2!', ...days(3, 6)] },
    peer: { 'tank/a': days(1, 6), 'tank/a/b': days(1, 6) },
    recursive: true,
    keep: { daily: 2 },
    destroyed: {
      src1: { 'tank/a': ['d1', 'd3', 'd4'], 'tank/a/b': ['d1', 'd3', 'd4'] },
      backup1: { [toPeer('tank/a' as DatasetName)]: days(1, 4), [toPeer('tank/a/b' as DatasetName)]: days(1, 4) },
    },
  },
  {
    title: "a child's own base keeps that name across the source tree",
    source: { 'tank/a': days(1, 6), 'tank/a/b': days(1, 6) },
    peer: { 'tank/a': days(1, 6), 'tank/a/b': days(1, 3) },
    recursive: true,
    keep: { daily: 1 },
    destroyed: {
      src1: { 'tank/a': ['d1', 'd2', 'd4', 'd5'], 'tank/a/b': ['d1', 'd2', 'd4', 'd5'] },
      backup1: { [toPeer('tank/a' as DatasetName)]: ['d1', 'd2', 'd4', 'd5'], [toPeer('tank/a/b' as DatasetName)]: ['d1', 'd2'] },
    },
  },
  {
    title: "the snapshots an export chain still needs (keep.fulls) stay on the source under maxAge 1d; the peer's own policy is unchanged",
    source: { 'tank/a': days(1, 10) },
    peer: { 'tank/a': days(1, 10) },
    keep: { maxAgeMs: DAY },
    exportProtections: new Map([
      ['fleet-d2', ['full stream of export chain s3-offsite']],
      ['fleet-d5', ['incremental of export chain s3-offsite']],
    ]),
    destroyed: { src1: { 'tank/a': ['d1', 'd3', 'd4', 'd6', 'd7', 'd8', 'd9'] }, backup1: { [toPeer('tank/a' as DatasetName)]: days(1, 9) } },
    reasons: { src1: { 'fleet-d2': /full stream of export chain s3-offsite/, 'fleet-d5': /incremental of export chain/ } },
  },
];

function run(testCase: Case): HostPrune[] {
  const input: PruneInput = {
    host: 'src1',
    entry: { dataset: 'tank/a' as DatasetName, recursive: testCase.recursive ?? false, exclude: [] },
    source: { tree: testCase.source ? tree(testCase.source) : undefined, policy: testCase.keep, timeZone: 'UTC' },
    peers: [{ name: 'backup1', tree: testCase.peer ? tree(testCase.peer, toPeer) : undefined, policy: testCase.peerKeep ?? testCase.keep, timeZone: 'UTC', destinationOf: toPeer }],
    nowMs: 10 * DAY + DAY / 2 + 60_000,
    isManaged: (name) => name.startsWith('fleet-'),
    ...(testCase.exportProtections ? { exportProtections: testCase.exportProtections } : {}),
  };
  return planPrune(input);
}

describe('planPrune', () => {
  it.each(cases)('$title', (testCase) => {
    const plans = run(testCase);
    for (const plan of plans) {
      const destroyed = Object.fromEntries(destroysOf(plan).map(({ dataset, snapshots }) => [dataset, snapshots.map((s) => s.name.replace(/^fleet-/, ''))]));
      expect(destroyed, plan.host).toEqual(testCase.destroyed[plan.host]);
      if (testCase.skipped?.[plan.host]) expect(plan.skipped?.reason, plan.host).toMatch(testCase.skipped[plan.host]!);
      else expect(plan.skipped, plan.host).toBeUndefined();
      for (const [name, reason] of Object.entries(testCase.reasons?.[plan.host] ?? {})) {
        const decision = plan.datasets[0]!.decisions.find((d) => d.name === name)!;
        expect(decision.action, `${plan.host} ${name}`).toBe('keep');
        expect(decision.reasons.join('; ')).toMatch(reason);
      }
    }
  });

  it("destroys only guids the plan saw: each destroy names the dataset's own guid", () => {
    const [source] = run(cases[0]!);
    const sourceTree = tree(cases[0]!.source!);
    for (const { dataset, snapshots } of destroysOf(source!)) {
      for (const snapshot of snapshots) expect(sourceTree.datasets.find((d) => d.name === dataset)!.snapshots.find((s) => s.name === snapshot.name)!.guid).toBe(snapshot.guid);
    }
  });
});
