import { describe, expect, it } from 'vitest';
import { describeStep } from './describe-step.ts';
import { summarizePlan } from './summarize-plan.ts';
import { peerTree, planFor, sourceTree } from './trees.fixture.ts';

const onlyStep = (source: Record<string, string[]>, peer: Record<string, string[]>, input = {}) => planFor(sourceTree(source), peerTree(peer), input).steps[0]!;

describe('describeStep', () => {
  it.each([
    { line: 'full → @s2', step: () => onlyStep({ 'tank/a': ['s1', 's2'] }, {}) },
    { line: 'full → @s1 (whole tree, -R)', step: () => onlyStep({ 'tank/a': ['s1'], 'tank/a/b': ['s1'] }, {}, { recursive: true }) },
    { line: 'full → @s1, replacing 1 destination snapshot(s) and its data', step: () => onlyStep({ 'tank/a': ['s1'] }, { 'tank/a': ['x=1'] }, { force: true }) },
    { line: 'incremental @s1 → @s2', step: () => onlyStep({ 'tank/a': ['s1', 's2'] }, { 'tank/a': ['s1'] }) },
    { line: 'incremental @s1 → @s2, rolling back @l1', step: () => onlyStep({ 'tank/a': ['s1', 's2'] }, { 'tank/a': ['s1', 'l1=3'] }, { force: true }) },
    { line: 'up to date at @s1', step: () => onlyStep({ 'tank/a': ['s1'] }, { 'tank/a': ['s1'] }) },
    { line: 'blocked (SNAPSHOT_NOT_FOUND): "tank/a" has no snapshots; take one first.', step: () => onlyStep({ 'tank/a': [] }, {}) },
  ])('$line', ({ line, step }) => {
    expect(describeStep(step())).toBe(line);
  });
});

describe('summarizePlan', () => {
  it('counts steps per kind', () => {
    const plan = planFor(
      sourceTree({ 'tank/a': ['s1', 's2'], 'tank/a/new': ['s2'], 'tank/a/same': ['s1'], 'tank/a/empty': [] }),
      peerTree({ 'tank/a': ['s1'], 'tank/a/same': ['s1'] }),
      { recursive: true },
    );
    expect(summarizePlan(plan)).toEqual({ full: 1, incremental: 1, upToDate: 1, blocked: 1, resume: 0 });
  });
});
