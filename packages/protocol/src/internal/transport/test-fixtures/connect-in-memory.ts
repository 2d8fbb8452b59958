import { PassThrough, type Writable } from 'node:stream';
import { createTRPCClient } from '@trpc/client';
import type { FleetError } from '../../../errors.ts';
import { serveStream, type ServeStreamOptions } from '../serve-stream.ts';
import { createStreamLink, type StreamLinkOptions } from '../stream-link.ts';
import { createTestProbe, testRouter, type TestRouter } from './create-test-router.ts';

/**
 * The test router served with serveStream and called through createStreamLink, over two
 * in-memory pipes: `toAgent` (the agent's stdin) and `toController` (the agent's stdout).
 */
export function connectInMemory(
  options: {
    /** Stands between the agent and `toController`, e.g. a slow writer. */
    agentOutput?: (toController: PassThrough) => Writable;
    serve?: Partial<ServeStreamOptions<TestRouter>>;
    link?: Pick<StreamLinkOptions, 'maxLineBytes'>;
  } = {},
) {
  const toAgent = new PassThrough();
  const toController = new PassThrough();
  const probe = createTestProbe();
  const requests: unknown[] = [];
  toAgent.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') requests.push(JSON.parse(line));
  });
  const served = serveStream({
    router: testRouter,
    createContext: () => ({ probe }),
    input: toAgent,
    output: options.agentOutput?.(toController) ?? toController,
    ...options.serve,
  });
  const protocolErrors: FleetError[] = [];
  const transport = createStreamLink<TestRouter>({ input: toController, output: toAgent, onProtocolError: (error) => protocolErrors.push(error), ...options.link });
  const client = createTRPCClient<TestRouter>({ links: [transport.link] });
  return { client, transport, served, probe, requests, protocolErrors, toAgent, toController };
}
