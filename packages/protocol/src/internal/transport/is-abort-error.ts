/** An AbortError from any source: DOMException, execa, Node's stream and timers APIs. */
export function isAbortError(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { name?: unknown }).name === 'AbortError';
}
