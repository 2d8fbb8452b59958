import { describe, expect, it } from 'vitest';
import { shellQuote, splitQuotedPipeline } from './shell-quote.ts';

const join = (stages: string[][]) => stages.map((stage) => stage.map(shellQuote).join(' ')).join(' | ');

describe('splitQuotedPipeline', () => {
  it.each([
    [[['zfs', 'recv', '-d', 'backup/fleet/src1/tank']]],
    [
      [
        ['zstd', '-d', '-c', '-q'],
        ['zfs', 'recv', '-u', 'backup/fleet/src1/tank/with space'],
      ],
    ],
    [[['echo', "it's", '', 'a  b']]],
  ])('reads back what shellQuote wrote: %j', (stages) => {
    expect(splitQuotedPipeline(join(stages))).toEqual(stages);
  });

  it.each(['zfs recv x; reboot', 'zfs recv $(id)', 'zfs recv `id`', 'zfs recv "x"', 'zfs recv x > /etc/passwd', "zfs recv 'unclosed", 'zfs recv x\\ y', 'zfs recv x & id'])('refuses %j, which shellQuote never writes', (line) => {
    expect(splitQuotedPipeline(line)).toBeUndefined();
  });
});
