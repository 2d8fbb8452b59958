import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { dieWithAgentLauncher, hasSetpriv } from './die-with-agent.ts';

/** Running, not a zombie (killed, waiting for a reaper: this machine's pid 1 is slow to reap). */
const isAlive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

/** A stand-in agent: spawns `sleep 30` behind `launcher`, prints its pid, and waits to be killed. */
async function orphanOf(launcher: readonly string[]): Promise<number> {
  const script = `const c = require('node:child_process').spawn(process.argv[1], process.argv.slice(2), { stdio: 'ignore' }); console.log(c.pid); setInterval(() => {}, 1000);`;
  const [program, ...words] = [...launcher, 'sleep', '30'];
  const agent = spawn(process.execPath, ['-e', script, program!, ...words], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(agent.stdout!, 'data')) as [Buffer];
  const child = Number(line.toString().trim());
  agent.kill('SIGKILL');
  await once(agent, 'exit');
  await new Promise((resolve) => setTimeout(resolve, 300));
  return child;
}

test.skipIf(!(await hasSetpriv()))('a stream process started behind the launcher dies with an agent killed by SIGKILL; without it, it lives on', async () => {
  const launcher = dieWithAgentLauncher(true);
  expect(launcher).toEqual(['setpriv', '--pdeathsig', 'KILL', '--']);
  const guarded = await orphanOf(launcher);
  expect(isAlive(guarded)).toBe(false);
  const orphan = await orphanOf(dieWithAgentLauncher(false));
  expect(isAlive(orphan)).toBe(true);
  process.kill(orphan, 'SIGKILL');
});
