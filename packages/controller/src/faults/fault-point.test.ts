import { describe, expect, test } from 'vitest';
import { faultActionAt, type FaultAction, type FaultPoint } from './fault-point.ts';

describe('faultActionAt', () => {
  const cases: Array<[string | undefined, FaultPoint, FaultAction | undefined]> = [
    [undefined, 'snapshot', undefined],
    ['', 'snapshot', undefined],
    ['snapshot:kill', 'snapshot', 'kill'],
    ['planned:stop', 'planned', 'stop'],
    ['snapshot:kill', 'listing', undefined],
    ['journal', 'journal', undefined],
    ['journal:explode', 'journal', undefined],
    ['journal:kill:extra', 'journal', 'kill'],
  ];
  test.each(cases)('FLEET_FAULT_AT=%j at %s asks for %j', (value, point, expected) => {
    expect(faultActionAt(point, value)).toBe(expected);
  });
});
