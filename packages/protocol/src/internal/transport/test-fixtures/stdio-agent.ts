// A minimal agent for the child-process test: the test router served on stdin/stdout, logs on stderr.
import { serveStream, type StreamLogger } from '../serve-stream.ts';
import { createTestProbe, testRouter } from './create-test-router.ts';

const log = (level: string) => (data: object, message: string) => process.stderr.write(`${JSON.stringify({ level, ...data, message })}\n`);
const logger: StreamLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
const probe = createTestProbe();

logger.info({ pid: process.pid }, 'agent started');
await serveStream({ router: testRouter, createContext: () => ({ probe }), input: process.stdin, output: process.stdout, logger });
logger.info({ finished: probe.finished, aborted: probe.aborted }, 'agent stopped');
