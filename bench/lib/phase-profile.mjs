// Where a one-host zfs-fleet run's wall time goes, from its --json report's timings and phases.
import { summary } from './stats.mjs';

/**
 * One run's profile in ms: the controller's start, journal and exit (wall minus the run), each
 * side's SSH connection and agent start, the source's host phases, the unit's listing, plan and
 * transfer, the source's finishing phases, and what the run spent elsewhere.
 * @param {any} report @param {number} wallMs
 */
export function phaseProfile(report, wallMs) {
  const unit = report.units[0];
  const source = report.hosts.find((host) => host.host === unit.host);
  const peer = report.hosts.find((host) => host.host === unit.peer);
  const phase = (host, name) => host.phases?.filter((p) => p.name === name).reduce((sum, p) => sum + p.durationMs, 0) ?? 0;
  const hostPhases = ['lock', 'preSnapshot', 'snapshot', 'postSnapshot'].reduce((sum, name) => sum + phase(source, name), 0);
  const finishPhases = ['replicated', 'export', 'pruneSnapshots', 'unlock'].reduce((sum, name) => sum + phase(source, name), 0);
  const profile = {
    startAndExitMs: wallMs - report.durationMs,
    sourceConnectMs: source.timings?.connectMs ?? 0,
    sourceHandshakeMs: source.timings?.handshakeMs ?? 0,
    peerConnectMs: peer.timings?.connectMs ?? 0,
    peerHandshakeMs: peer.timings?.handshakeMs ?? 0,
    snapshotMs: phase(source, 'snapshot'),
    otherHostPhasesMs: hostPhases - phase(source, 'snapshot'),
    listMs: unit.timings?.listMs ?? 0,
    planMs: unit.timings?.planMs ?? 0,
    transferMs: unit.timings?.transferMs ?? 0,
    streamMs: unit.steps[0]?.durationMs ?? 0,
    finishPhasesMs: finishPhases,
  };
  // The source's session and host phases run beside the peer's opening: the slower is on the path.
  const beforeListing = Math.max(profile.sourceConnectMs + profile.sourceHandshakeMs + hostPhases, profile.peerConnectMs + profile.peerHandshakeMs);
  return { ...profile, restOfRunMs: report.durationMs - beforeListing - profile.listMs - profile.planMs - profile.transferMs - finishPhases };
}

/** Medians (min–max) of each profile field over the samples that carry one. @param {any[]} samples */
export function summarisePhaseProfile(samples) {
  const profiles = samples.filter((sample) => sample.profile).map((sample) => sample.profile);
  if (profiles.length === 0) return undefined;
  return Object.fromEntries(Object.keys(profiles[0]).map((key) => [key, summary(profiles.map((profile) => profile[key]))]));
}
