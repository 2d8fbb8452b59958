import { TRPCClientError } from '@trpc/client';
import { describe, expect, test } from 'vitest';
import { FleetError } from '../../errors.ts';
import { toFleetErrorFromClient } from './client-error.ts';

function fromWire(data: unknown): TRPCClientError<never> {
  return TRPCClientError.from({ error: { code: -32603, message: 'wire message', data } });
}

describe('toFleetErrorFromClient', () => {
  test('rebuilds the FleetError carried under data.fleet, keeping the client error as cause', () => {
    const wire = fromWire({ code: 'INTERNAL_SERVER_ERROR', fleet: { code: 'LOCKED', message: 'Dataset "tank/a" is locked.', hint: 'Wait.', details: { pid: 4 } } });
    const error = toFleetErrorFromClient(wire);
    expect(error).toMatchObject({ code: 'LOCKED', message: 'Dataset "tank/a" is locked.', hint: 'Wait.', details: { pid: 4 } });
    expect(error.cause).toBe(wire);
  });

  test('returns the link’s own FleetError (channel closed, cancelled) as is', () => {
    const closed = new FleetError('SSH_CHANNEL_CLOSED', 'gone');
    expect(toFleetErrorFromClient(new TRPCClientError('gone', { cause: closed }))).toBe(closed);
  });

  test('an unknown code or no fleet data becomes INTERNAL', () => {
    expect(toFleetErrorFromClient(fromWire({ fleet: { code: 'NOT_A_CODE', message: 'x' } })).code).toBe('INTERNAL');
    const plain = toFleetErrorFromClient(fromWire({ code: 'BAD_REQUEST' }));
    expect(plain).toMatchObject({ code: 'INTERNAL', message: 'wire message' });
  });

  test('an abort becomes CANCELLED; other values go through toFleetError', () => {
    const aborted = new TRPCClientError('aborted', { cause: new DOMException('This operation was aborted', 'AbortError') });
    expect(toFleetErrorFromClient(aborted).code).toBe('CANCELLED');
    expect(toFleetErrorFromClient(new Error('x')).code).toBe('INTERNAL');
    const fleet = new FleetError('USAGE', 'y');
    expect(toFleetErrorFromClient(fleet)).toBe(fleet);
  });
});
