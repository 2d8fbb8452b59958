import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTRPCClient } from '@trpc/client';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { toFleetErrorFromClient } from './client-error.ts';
import { ResponseFrameSchema } from './frame-schemas.ts';
import { createStreamLink } from './stream-link.ts';
import type { TestRouter } from './test-fixtures/create-test-router.ts';

// Node 20 cannot run TypeScript: the fixture agent is bundled into one .mjs first.
let directory: string;
let agentScript: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'fleet-stdio-'));
  agentScript = join(directory, 'stdio-agent.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./test-fixtures/stdio-agent.ts', import.meta.url))],
    outfile: agentScript,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node18',
    logLevel: 'silent',
  });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('serveStream in a child process over its stdin and stdout', () => {
  test('answers calls, writes nothing but frames to stdout, and exits on stdin EOF', async () => {
    const child = spawn(process.execPath, [agentScript], { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = once(child, 'exit');
    try {
      const stdout: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      const protocolErrors: unknown[] = [];
      const transport = createStreamLink<TestRouter>({ input: child.stdout, output: child.stdin, onProtocolError: (error) => protocolErrors.push(error) });
      const client = createTRPCClient<TestRouter>({ links: [transport.link] });

      await expect(client.echo.query({ text: 'over a pipe' })).resolves.toEqual({ text: 'over a pipe' });
      await expect(client.add.mutate({ a: 40, b: 2 })).resolves.toBe(42);
      const error = await client.fail.query().catch((caught: unknown) => caught);
      expect(toFleetErrorFromClient(error)).toMatchObject({ code: 'DATASET_NOT_FOUND', hint: 'Check the name with `zfs list`.' });
      const values: number[] = [];
      for await (const value of await client.count.subscribe({ to: 5000 })) values.push(value);
      expect(values).toEqual(Array.from({ length: 5000 }, (_, i) => i));

      // A call still running when the controller hangs up is aborted, and the agent exits.
      const slow = client.slow.query({ ms: 60_000 }).catch((caught: unknown) => caught);
      await new Promise((resolve) => setTimeout(resolve, 20));
      child.stdin.end();
      const [code] = await exited;
      expect(code).toBe(0);
      expect(toFleetErrorFromClient(await slow).code).toBe('SSH_CHANNEL_CLOSED');

      const bytes = Buffer.concat(stdout).toString('utf8');
      expect(bytes.endsWith('\n')).toBe(true);
      const lines = bytes.slice(0, -1).split('\n');
      for (const line of lines) expect(ResponseFrameSchema.safeParse(JSON.parse(line)).success).toBe(true);
      expect(lines.length).toBeGreaterThan(5000);
      expect(protocolErrors).toEqual([]);
      expect(stderr).toContain('"message":"agent stopped"');
      expect(stderr).toContain('"aborted":1');
    } finally {
      if (child.exitCode === null) child.kill();
    }
  });
});
