import { expect, test } from 'vitest';
import { createAgentLogger } from './logger.ts';

test('credentials logged by mistake are censored at any depth the agent logs them', () => {
  const lines: string[] = [];
  const logger = createAgentLogger('debug', { write: (line: string) => void lines.push(line) });
  logger.info({ secretAccessKey: 'SECRET-1' }, 'top');
  logger.child({ target: 's3 b' }).info({ credentials: { accessKeyId: 'AKID', secretAccessKey: 'SECRET-2', sessionToken: 'SECRET-3' } }, 'nested');
  logger.info({ target: { config: { secretAccessKey: 'SECRET-4' } } }, 'deeper');
  const text = lines.join('');
  expect(text).not.toMatch(/SECRET-/);
  expect(text).toContain('AKID');
  expect(text.match(/\[redacted\]/g)).toHaveLength(4);
});
