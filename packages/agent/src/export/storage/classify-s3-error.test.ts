import { describe, expect, test } from 'vitest';
import { classifyS3Error } from './classify-s3-error.ts';

const sdk = (name: string, httpStatusCode?: number, message = '') => Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });
const socket = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:9`), { code });

describe('classifyS3Error', () => {
  test.each([
    ['GetObject of a missing key', sdk('NoSuchKey', 404), { kind: 'missing' }],
    ['HeadObject of a missing key', sdk('NotFound', 404), { kind: 'missing' }],
    ['aborting an upload that is gone', sdk('NoSuchUpload', 404), { kind: 'missing' }],
    ['a missing bucket', sdk('NoSuchBucket', 404), { kind: 'unreachable', reason: 'the bucket does not exist' }],
    ['a wrong secret', sdk('SignatureDoesNotMatch', 403), { kind: 'unreachable', reason: 'the endpoint refused the credentials (SignatureDoesNotMatch)' }],
    ['an unknown key id', sdk('InvalidAccessKeyId', 403), { kind: 'unreachable', reason: 'the endpoint refused the credentials (InvalidAccessKeyId)' }],
    ['a bare 403 (HeadObject has no body)', sdk('403', 403), { kind: 'unreachable', reason: 'the endpoint refused the credentials (403)' }],
    ['a refused connection', socket('ECONNREFUSED'), { kind: 'unreachable', reason: 'the endpoint does not answer (ECONNREFUSED)' }],
    ['an unknown host', socket('ENOTFOUND'), { kind: 'unreachable', reason: 'the endpoint does not answer (ENOTFOUND)' }],
    ['both address families refused', Object.assign(new AggregateError([socket('ECONNREFUSED'), socket('ECONNREFUSED')]), {}), { kind: 'unreachable', reason: 'the endpoint does not answer (ECONNREFUSED)' }],
    ['a timeout', sdk('TimeoutError'), { kind: 'unreachable', reason: 'the endpoint timed out' }],
    ['a server error', sdk('InternalError', 500, 'We encountered an internal error'), { kind: 'failed', reason: 'InternalError: 500: We encountered an internal error' }],
    ['a quota on the server is not a credentials problem', sdk('QuotaExceeded', 403), { kind: 'failed', reason: 'QuotaExceeded: 403' }],
  ])('%s', (_title, error, expected) => {
    expect(classifyS3Error(error)).toEqual(expected);
  });
});
