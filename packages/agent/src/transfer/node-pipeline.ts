import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { createMeter } from './meter.ts';
import { signalExitCode, type PipelineInput, type PipelineOutcome, type ProcessOutcome } from './pipeline.ts';

/**
 * The portable path, for hosts without `pv`: the bytes pass through one counting (and, with a
 * limit, pacing) Transform here, with node's backpressure between every segment.
 */
export async function runNodePipeline(input: PipelineInput): Promise<PipelineOutcome> {
  const launch = (argv: readonly string[]): [string, string[]] => {
    const [program, ...words] = [...input.launcher, ...argv];
    return [program!, words];
  };
  const stages = input.stages.map((stage) => execa(...launch(stage), { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: { stdout: false, stderr: true }, cancelSignal: input.signal, reject: false }));
  const ssh = execa(...launch(['ssh', ...input.sshArgv]), { stdin: 'pipe', stdout: 'ignore', stderr: 'pipe', buffer: { stdout: false, stderr: true }, cancelSignal: input.signal, reject: false });
  const meter = createMeter(input.onBytes, input.bytesPerSecond);
  const segments = [pipeline(input.send.stdout, meter, stages[0]?.stdin ?? ssh.stdin), ...stages.map((stage, index) => pipeline(stage.stdout, stages[index + 1]?.stdin ?? ssh.stdin))];
  // If any end dies, stop the others: a half-open pipe would hang forever.
  const piping = Promise.all(segments).then(
    () => undefined,
    (error: unknown) => {
      input.abort();
      return error;
    },
  );
  const [sshDone, stagesDone, pipeError] = await Promise.all([ssh, Promise.all(stages), piping]);
  const outcome = (command: string, done: { exitCode?: number | undefined; signal?: string | undefined; stderr?: unknown }): ProcessOutcome => ({
    command,
    exitCode: done.exitCode ?? signalExitCode(done.signal),
    ...(done.signal ? { signal: done.signal } : {}),
    stderr: String(done.stderr ?? ''),
  });
  return {
    ssh: outcome('ssh', sshDone),
    stages: stagesDone.map((done, index) => outcome(input.stages[index]![0]!, done)),
    ...(pipeError ? { pipeError } : {}),
    bytes: meter.bytes(),
  };
}
