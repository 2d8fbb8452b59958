import { describe, expect, it } from 'vitest';
import type { Transfer } from '@zfs-fleet/protocol';
import { transferLegs } from './replicate.ts';

const full = { dataset: 'tank/a', to: 'fleet-3', recursive: false, force: true, receiveInto: 'backup/fleet/src1/tank/a', exact: true } as Transfer;

describe('transferLegs', () => {
  it('sends a full that keeps history as the oldest snapshot in full, then -I to the target without -F', () => {
    expect(transferLegs({ ...full, history: 'hourly-1' } as Transfer)).toEqual([
      { ...full, to: 'hourly-1' },
      { ...full, from: 'hourly-1', force: false },
    ]);
  });

  it('leaves a plain full, an incremental and a resume as one stream', () => {
    expect(transferLegs(full)).toEqual([full]);
    expect(transferLegs({ ...full, from: 'fleet-2' } as Transfer)).toEqual([{ ...full, from: 'fleet-2' }]);
    expect(transferLegs({ ...full, history: 'fleet-3' } as Transfer)).toEqual([full]);
  });
});
