import { describe, expect, it } from 'vitest';
import type { ResumeTokenInfo } from '@zfs-fleet/protocol';
import { peerTree, planFor, sourceTree, toPeer } from './trees.fixture.ts';

const guidIn = (tree: ReturnType<typeof sourceTree>, name: string) => tree.datasets[0]!.snapshots.find((s) => s.name === name)!.guid;

describe('resume tokens', () => {
  it('a token the source decoded to a snapshot it still has is resumed, naming its base and target (for the holds)', () => {
    const source = sourceTree({ 'tank/a': ['s1', 's2'] });
    const token: ResumeTokenInfo = { token: '1-abc', toName: 'tank/a@s2', toGuid: guidIn(source, 's2'), fromGuid: guidIn(source, 's1') };
    const plan = planFor(source, peerTree({ 'tank/a': { snapshots: ['s1'], resumeToken: '1-abc' } }), { resumeTokens: [token] });
    expect(plan.steps).toEqual([{ dataset: 'tank/a', destination: toPeer('tank/a'), kind: 'resume', token: '1-abc', to: expect.objectContaining({ name: 's2' }), from: expect.objectContaining({ name: 's1' }) }]);
  });

  it('a token that could not be decoded is resumed as it is', () => {
    const plan = planFor(sourceTree({ 'tank/a': ['s1', 's2'] }), peerTree({ 'tank/a': { snapshots: ['s1'], resumeToken: '1-abc' } }), { resumeTokens: [] });
    expect(plan.steps).toEqual([{ dataset: 'tank/a', destination: toPeer('tank/a'), kind: 'resume', token: '1-abc' }]);
  });

  it('a stale incremental token (its snapshot destroyed on the source) is aborted, then the normal incremental runs, saying so', () => {
    const source = sourceTree({ 'tank/a': ['s1', 's3'] });
    const token: ResumeTokenInfo = { token: '1-abc', toName: 'tank/a@big2', toGuid: '424242', fromGuid: guidIn(source, 's1') };
    const [step] = planFor(source, peerTree({ 'tank/a': { snapshots: ['s1'], resumeToken: '1-abc' } }), { resumeTokens: [token] }).steps;
    expect(step).toMatchObject({ kind: 'incremental', from: { name: 's1' }, to: { name: 's3' }, force: false, abortPartialReceive: { token: '1-abc', snapshot: 'big2' } });
    expect(step!.warnings?.join('\n')).toContain('@big2 no longer exists on the source');
    expect(step!.warnings?.join('\n')).toContain('zfs recv -A');
  });

  it('a stale full-stream token is aborted and the dataset planned as new (the partial dataset goes with the abort)', () => {
    const source = sourceTree({ 'tank/a': ['s3'] });
    const token: ResumeTokenInfo = { token: '1-abc', toName: 'tank/a@big2', toGuid: '424242' };
    const [step] = planFor(source, peerTree({ 'tank/a': { snapshots: [], bytes: 80_000_000, resumeToken: '1-abc' } }), { resumeTokens: [token] }).steps;
    expect(step).toMatchObject({ kind: 'full', to: { name: 's3' }, force: false, abortPartialReceive: { snapshot: 'big2' } });
    expect(step).not.toHaveProperty('replace');
  });

  it('a stale token on a dataset that is otherwise up to date is still aborted', () => {
    const source = sourceTree({ 'tank/a': ['s1'] });
    const token: ResumeTokenInfo = { token: '1-abc', toName: 'tank/a@big2', toGuid: '424242', fromGuid: guidIn(source, 's1') };
    const [step] = planFor(source, peerTree({ 'tank/a': { snapshots: ['s1'], resumeToken: '1-abc' } }), { resumeTokens: [token] }).steps;
    expect(step).toMatchObject({ kind: 'up-to-date', abortPartialReceive: { snapshot: 'big2' } });
  });

  it('a stale token on a blocked dataset is not aborted (nothing runs) and the warning says when it will be', () => {
    const source = sourceTree({ 'tank/a': ['s1', 's3'] });
    const token: ResumeTokenInfo = { token: '1-abc', toName: 'tank/a@big2', toGuid: '424242', fromGuid: guidIn(source, 's1') };
    const [step] = planFor(source, peerTree({ 'tank/a': { snapshots: ['s1', 'x=77'], resumeToken: '1-abc' } }), { resumeTokens: [token] }).steps;
    expect(step).toMatchObject({ kind: 'blocked', code: 'DESTINATION_AHEAD' });
    expect(step).not.toHaveProperty('abortPartialReceive');
    expect(step!.warnings?.join('\n')).toContain('once this dataset is no longer blocked');
  });
});
