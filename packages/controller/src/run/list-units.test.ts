import { describe, expect, it } from 'vitest';
import { fakeFleetConfig } from '../agent/fake-fleet.fixture.ts';
import { listUnits } from './list-units.ts';

const config = fakeFleetConfig({
  src1: [
    { dataset: 'tank/a', to: ['backup1', 'backup2'] },
    { dataset: 'tank/b', to: ['backup2'] },
  ],
  src2: [{ dataset: 'tank/c', to: ['backup1'] }],
});
const row = (unit: ReturnType<typeof listUnits>[number]) => `${unit.host} ${unit.entry.dataset} → ${unit.peer}:${unit.destination} (${unit.hostRoot})`;

describe('listUnits', () => {
  it('fans each selected host out to its entries and each entry to its peers, in order', () => {
    expect(listUnits(config, { hosts: ['src2', 'src1'] }).map(row)).toEqual([
      'src2 tank/c → backup1:backup/fleet/src2/tank/c (backup/fleet/src2)',
      'src1 tank/a → backup1:backup/fleet/src1/tank/a (backup/fleet/src1)',
      'src1 tank/a → backup2:backup/fleet/src1/tank/a (backup/fleet/src1)',
      'src1 tank/b → backup2:backup/fleet/src1/tank/b (backup/fleet/src1)',
    ]);
  });

  it('keeps only the entries `only` admits, and lists nothing for a host without backups', () => {
    expect(listUnits(config, { hosts: ['src1', 'backup1'], only: (_host, dataset) => dataset === 'tank/b' }).map(row)).toEqual(['src1 tank/b → backup2:backup/fleet/src1/tank/b (backup/fleet/src1)']);
  });
});
