import { FleetError } from '@zfs-fleet/protocol';

/**
 * The controller's clock: real time, or real time shifted so that it starts at `--now`
 * (else $FLEET_NOW). Tests inject a time this way; so can an operator catching up by hand.
 * It keeps ticking, so a run's duration is still measured.
 */
export function createClock(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): () => Date {
  const text = flag ?? env['FLEET_NOW'];
  if (!text) return () => new Date();
  const start = new Date(text);
  if (Number.isNaN(start.getTime())) {
    throw new FleetError('USAGE', `--now (or FLEET_NOW) takes an ISO 8601 time such as 2026-11-23T07:00:00Z, not "${text}".`);
  }
  const offsetMs = start.getTime() - Date.now();
  return () => new Date(Date.now() + offsetMs);
}
