import { describe, expect, it } from 'vitest';
import type { DatasetName, DatasetTree, SnapshotName } from '@zfs-fleet/protocol';
import { changedSincePlanning } from './changed-since-planning.ts';
import type { SendableStep } from './execute-plan.ts';

const COPY = 'backup/fleet/src1/tank/a' as DatasetName;
const ref = (name: string) => ({ name: name as SnapshotName, guid: `g-${name}`, createtxg: Number(name.replace(/\D/g, '')) || 1 });

/** A peer tree: dataset name → its snapshots' names (guid `g-<name>`). */
function tree(datasets: Record<string, string[]>): DatasetTree {
  return {
    datasets: Object.entries(datasets).map(([name, snapshots]) => ({
      name: name as DatasetName,
      type: 'filesystem' as const,
      guid: `g-${name}`,
      referencedBytes: 0,
      snapshots: snapshots.map((snapshot) => ({ ...ref(snapshot), createdAt: 0 })),
    })),
  };
}

const incremental: SendableStep = { kind: 'incremental', dataset: 'tank/a' as DatasetName, destination: COPY, recursive: false, from: ref('s1'), to: ref('s2'), force: false, rollback: [] };
const full: SendableStep = { kind: 'full', dataset: 'tank/a' as DatasetName, destination: COPY, recursive: false, to: ref('s1'), force: false };
const recursive: SendableStep = { ...incremental, recursive: true };

describe('changedSincePlanning', () => {
  const cases: Array<[title: string, step: SendableStep, planned: DatasetTree, fresh: DatasetTree, expected: { code: string; message: RegExp } | undefined]> = [
    ['a destination as planned is unchanged', incremental, tree({ [COPY]: ['s1'] }), tree({ [COPY]: ['s1'] }), undefined],
    [
      'a snapshot taken on the copy after planning is DESTINATION_AHEAD, naming it',
      incremental,
      tree({ [COPY]: ['s1'] }),
      tree({ [COPY]: ['s1', 'byhand'] }),
      { code: 'DESTINATION_AHEAD', message: /gained "backup\/fleet\/src1\/tank\/a@byhand" after this run planned its stream; nothing was sent/ },
    ],
    ['a base destroyed on the copy after planning is BASE_MISSING', incremental, tree({ [COPY]: ['s0', 's1'] }), tree({ [COPY]: ['s0'] }), { code: 'BASE_MISSING', message: /@s1", the base of this run's stream, was destroyed on the peer after planning/ }],
    ['an older snapshot pruned on the copy meanwhile changes nothing the stream needs', incremental, tree({ [COPY]: ['s0', 's1'] }), tree({ [COPY]: ['s1'] }), undefined],
    ['a full stream into a destination created after planning is DESTINATION_NOT_EMPTY', full, tree({}), tree({ [COPY]: [] }), { code: 'DESTINATION_NOT_EMPTY', message: /was created on the peer after this run planned a full stream/ }],
    ['a recursive step sees a snapshot added to a child copy', recursive, tree({ [COPY]: ['s1'], [`${COPY}/c`]: ['s1c'] }), tree({ [COPY]: ['s1'], [`${COPY}/c`]: ['s1c', 'x'] }), { code: 'DESTINATION_AHEAD', message: /tank\/a\/c@x/ }],
    ['a non-recursive step ignores the children of its destination', incremental, tree({ [COPY]: ['s1'], [`${COPY}/c`]: [] }), tree({ [COPY]: ['s1'], [`${COPY}/c`]: ['x'] }), undefined],
  ];
  it.each(cases)('%s', (_, step, planned, fresh, expected) => {
    const error = changedSincePlanning(step, planned, fresh);
    if (!expected) expect(error).toBeUndefined();
    else expect(error).toMatchObject({ code: expected.code, message: expect.stringMatching(expected.message), details: { destination: COPY, phase: 'replicate' } });
  });

  it('does not check a resumed stream: it continues zfs partial state', () => {
    expect(changedSincePlanning({ kind: 'resume', dataset: 'tank/a' as DatasetName, destination: COPY, token: 't' } as SendableStep, tree({}), tree({ [COPY]: ['x'] }))).toBeUndefined();
  });
});
