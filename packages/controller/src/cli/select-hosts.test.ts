import { describe, expect, it } from 'vitest';
import { fakeFleetConfig } from '../agent/fake-fleet.fixture.ts';
import { selectHosts } from './select-hosts.ts';

const config = fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'] }], src2: [{ dataset: 'tank/b', to: ['backup2'] }] });

describe('selectHosts', () => {
  it('a host named twice is selected once (`fleet backup src1 src1` runs src1 once)', () => {
    expect(selectHosts(config, ['src1', 'src1'], { all: false, sources: true, example: 'fleet backup --all' })).toEqual(['src1']);
  });

  it('--all means the source hosts for source commands, every host otherwise', () => {
    expect(selectHosts(config, [], { all: true, sources: true, example: 'fleet backup --all' })).toEqual(['src1', 'src2']);
    expect(selectHosts(config, [], { all: true, example: 'fleet agent install --all' }).sort()).toEqual(['backup1', 'backup2', 'src1', 'src2']);
  });

  it.each([
    ['names and --all', ['src1'], { all: true }, 'Give either --all or host names, not both.'],
    ['nothing', [], { all: false }, 'Name the hosts, or pass --all.'],
    ['a host not in the config', ['src9'], { all: false }, 'Host "src9" is not in the config.'],
  ])('refuses %s as a usage error', (_what, names, flags, message) => {
    expect(() => selectHosts(config, names, { ...flags, sources: true, example: 'fleet backup --all' })).toThrow(expect.objectContaining({ code: 'USAGE', message }));
  });
});
