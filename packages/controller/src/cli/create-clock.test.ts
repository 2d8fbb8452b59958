import { describe, expect, it } from 'vitest';
import { createClock } from './create-clock.ts';

describe('createClock', () => {
  it('starts at --now and keeps ticking', async () => {
    const clock = createClock('2026-11-23T07:00:00Z', {});
    const first = clock().getTime();
    expect(Math.abs(first - Date.parse('2026-11-23T07:00:00Z'))).toBeLessThan(1000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(clock().getTime()).toBeGreaterThan(first);
  });
  it('takes FLEET_NOW when there is no flag, the flag first', () => {
    expect(createClock(undefined, { FLEET_NOW: '2030-01-01T00:00:00Z' })().getUTCFullYear()).toBe(2030);
    expect(createClock('2031-01-01T00:00:00Z', { FLEET_NOW: '2030-01-01T00:00:00Z' })().getUTCFullYear()).toBe(2031);
  });
  it('is the real clock without either', () => {
    expect(Math.abs(createClock(undefined, {})().getTime() - Date.now())).toBeLessThan(1000);
  });
  it('refuses a time it cannot read, as a usage error', () => {
    expect(() => createClock('tomorrow', {})).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});
