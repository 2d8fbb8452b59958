import { describe, expect, it } from 'vitest';
import { describeRestoredState } from './print-restore-report.ts';

const target = { host: 'src', dataset: 'tank/secret-restored' };

describe('the restored dataset as the report describes it', () => {
  it('a raw-received encrypted dataset without its key says so and how to unlock it, not "mounted"', () => {
    const text = describeRestoredState({ target, state: { mounted: false, readonly: false, keystatus: 'unavailable' } });
    expect(text).toContain('keystatus=unavailable');
    expect(text).toContain('not mounted');
    expect(text).toContain('zfs load-key tank/secret-restored');
    expect(text).toContain('zfs mount tank/secret-restored');
    expect(text).not.toMatch(/read-write and mounted/);
  });

  it('a plain dataset reports what zfs said', () => {
    expect(describeRestoredState({ target, state: { mounted: true, readonly: false } })).toBe('it is read-write and mounted.');
    expect(describeRestoredState({ target, state: { mounted: false, readonly: true } })).toBe('it is read-only and not mounted.');
  });

  it('an encrypted dataset whose key is loaded says so', () => {
    expect(describeRestoredState({ target, state: { mounted: true, readonly: false, keystatus: 'available' } })).toBe('it is read-write and mounted (keystatus=available).');
  });
});
