/**
 * Test-only fault injection, for the lab's fault tests (test/e2e/faults.test.ts): with
 * `FLEET_FAULT_AT=<point>:<kill|stop>` in its environment the controller sends itself SIGKILL
 * (dies there, as under the OOM killer or a power cut) or SIGSTOP (pauses there until SIGCONT,
 * so a test can change the hosts between two steps) when it reaches that named point. Without
 * the variable, or naming another point, it does nothing. docs/reliability.md lists the points.
 */
export const FAULT_POINTS = ['snapshot', 'listing', 'planned', 'journal'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];
export type FaultAction = 'kill' | 'stop';

export const FAULT_VARIABLE = 'FLEET_FAULT_AT';

/** Pure: what `FLEET_FAULT_AT`'s value asks for at `point`, if anything. */
export function faultActionAt(point: FaultPoint, value: string | undefined): FaultAction | undefined {
  if (!value) return undefined;
  const [at, action] = value.split(':');
  if (at !== point) return undefined;
  return action === 'stop' ? 'stop' : action === 'kill' ? 'kill' : undefined;
}

/** Kills or stops this process at `point` if the environment asks for it; else nothing. */
export function faultPoint(point: FaultPoint, env: NodeJS.ProcessEnv = process.env): void {
  const action = faultActionAt(point, env[FAULT_VARIABLE]);
  if (action) process.kill(process.pid, action === 'stop' ? 'SIGSTOP' : 'SIGKILL');
}

/** Whether the environment asks for a fault at `point` (the journal writes half a line first). */
export function isFaultAt(point: FaultPoint, env: NodeJS.ProcessEnv = process.env): boolean {
  return faultActionAt(point, env[FAULT_VARIABLE]) !== undefined;
}
