import { TRPCError } from '@trpc/server';
import { describe, expect, test } from 'vitest';
import { FleetError } from '../../errors.ts';
import { formatFleetErrorShape } from './create-fleet-trpc.ts';

const shape = { code: -32603 as const, message: 'm', data: { code: 'INTERNAL_SERVER_ERROR' as const, httpStatus: 500, path: 'p', stack: 'Error: m\n    at x.ts:1:1' } };

describe('formatFleetErrorShape', () => {
  test('puts a FleetError cause under data.fleet and drops the stack', () => {
    const cause = new FleetError('ZFS_FAILED', 'zfs failed on "tank".', { hint: 'Read stderr.' });
    const formatted = formatFleetErrorShape({ shape, error: new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause }), path: 'p' });
    expect(formatted.data).toEqual({ code: 'INTERNAL_SERVER_ERROR', httpStatus: 500, path: 'p', fleet: { code: 'ZFS_FAILED', message: 'zfs failed on "tank".', hint: 'Read stderr.' } });
  });

  test('any other error becomes INTERNAL naming the procedure', () => {
    const formatted = formatFleetErrorShape({ shape, error: new TRPCError({ code: 'NOT_FOUND', message: 'No "query"-procedure on path "nope"' }), path: 'nope' });
    expect(formatted.data.fleet).toMatchObject({ code: 'INTERNAL', message: 'Unexpected failure in procedure "nope": No "query"-procedure on path "nope"', details: { trpcCode: 'NOT_FOUND' } });
    expect(JSON.stringify(formatted)).not.toContain('stack');
  });
});
