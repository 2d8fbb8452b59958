import type { HookResult } from '@zfs-fleet/protocol';
import type pino from 'pino';
import { isHookSuccess, runHook, type RunHookOptions } from './run-hook.ts';

/** Runs a phase's commands in order; with `stopOnFailure`, the first failure ends the phase. */
export async function runHooks(commands: readonly string[], options: RunHookOptions & { stopOnFailure: boolean; logger: pino.Logger }): Promise<HookResult[]> {
  const results: HookResult[] = [];
  for (const command of commands) {
    const result = await runHook(command, options);
    results.push(result);
    const ok = isHookSuccess(result);
    // The output goes to the log truncated (the tail), under a key of our own.
    options.logger[ok ? 'info' : 'error']({ hook: { command, exitCode: result.exitCode, signal: result.signal, timedOut: result.timedOut, durationMs: result.durationMs, stdoutTail: result.stdoutTail, stderrTail: result.stderrTail } }, ok ? 'hook ran' : 'hook failed');
    if (!ok && options.stopOnFailure) break;
  }
  return results;
}
