import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { signalExitCode, type PipelineInput, type PipelineOutcome, type ProcessOutcome } from './pipeline.ts';

/**
 * The fast path: every process's stdout is the next one's stdin, kernel pipe to kernel pipe,
 * so the stream's bytes never enter this process. `pv` (which splices) counts and paces them.
 */
export async function runKernelPipeline(input: PipelineInput): Promise<PipelineOutcome> {
  const meterArgs = ['-n', '-b', '-i', '0.5', ...(input.bytesPerSecond ? ['-L', String(input.bytesPerSecond)] : [])];
  const chain: Array<{ command: string; child: ChildProcess }> = [];
  let upstream: Readable = input.send.stdout;
  for (const [command, ...args] of [['pv', ...meterArgs], ...input.stages]) {
    const [program, ...words] = [...input.launcher, command!, ...args];
    const child = spawn(program!, words, { stdio: [upstream, 'pipe', 'pipe'], signal: input.signal });
    // Our copy of the pipe must close, or a dead reader would never reach the writer.
    upstream.destroy();
    chain.push({ command: command!, child });
    upstream = child.stdout!;
  }
  const [sshProgram, ...sshWords] = [...input.launcher, 'ssh', ...input.sshArgv];
  const ssh = spawn(sshProgram!, sshWords, { stdio: [upstream, 'ignore', 'pipe'], signal: input.signal });
  upstream.destroy();

  let bytes = 0;
  const meter = chain[0]!.child;
  meter.stderr!.setEncoding('utf8');
  let pending = '';
  const meterStderr: string[] = [];
  meter.stderr!.on('data', (text: string) => {
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (/^[0-9]+$/.test(line.trim())) {
        bytes = Number(line.trim());
        input.onBytes(bytes);
      } else if (line.trim()) meterStderr.push(line);
    }
  });
  const [sshOutcome, ...stages] = await Promise.all([outcomeOf('ssh', ssh), ...chain.map(({ command, child }) => outcomeOf(command, child))]);
  if (/^[0-9]+$/.test(pending.trim())) bytes = Number(pending.trim());
  if (stages[0]) stages[0].stderr = meterStderr.join('\n');
  return { ssh: sshOutcome!, stages, bytes };
}

function outcomeOf(command: string, child: ChildProcess): Promise<ProcessOutcome> {
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  if (command !== 'pv')
    child.stderr?.on('data', (text: string) => {
      stderr = (stderr + text).slice(-8000);
    });
  return new Promise((resolve) => {
    child.on('error', (error) => {
      stderr += String(error);
    });
    child.on('close', (code, signal) => resolve({ command, exitCode: code ?? signalExitCode(signal), ...(signal ? { signal } : {}), stderr }));
  });
}
