/** What an S3 call's failure means to an export: the one place SDK errors are read. */
export type S3Failure =
  | { kind: 'missing' } // no such key (or upload): often not an error to the caller
  | { kind: 'unreachable'; reason: string } // endpoint, bucket or credentials: nothing works until fixed
  | { kind: 'failed'; reason: string }; // this call failed

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE']);
const CREDENTIAL_ERRORS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken']);

interface SdkErrorLike {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  errors?: unknown[];
}

/** Pure: classifies an error thrown by @aws-sdk/client-s3 (or by the socket beneath it). */
export function classifyS3Error(error: unknown): S3Failure {
  const e = (error ?? {}) as SdkErrorLike;
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  // Node's AggregateError (IPv4 and IPv6 both refused) carries the codes in `errors`.
  const code = e.code ?? (e.errors?.[0] as SdkErrorLike | undefined)?.code ?? '';
  if (name === 'NoSuchKey' || name === 'NoSuchUpload' || (name === 'NotFound' && status === 404)) return { kind: 'missing' };
  if (name === 'NoSuchBucket') return { kind: 'unreachable', reason: 'the bucket does not exist' };
  // A HEAD has no body, so its 403 carries no error name.
  if (CREDENTIAL_ERRORS.has(name) || (status === 403 && /^(\d+|Forbidden|Unknown)$/.test(name))) return { kind: 'unreachable', reason: `the endpoint refused the credentials (${name || status})` };
  if (NETWORK_CODES.has(code)) return { kind: 'unreachable', reason: `the endpoint does not answer (${code})` };
  if (name === 'TimeoutError' || name === 'RequestTimeout') return { kind: 'unreachable', reason: 'the endpoint timed out' };
  return { kind: 'failed', reason: [name, status, e.message].filter(Boolean).join(': ') || String(error) };
}
