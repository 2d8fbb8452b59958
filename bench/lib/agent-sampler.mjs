// Peak RSS of the zfs-fleet agents while a scenario runs: every 100 ms, any process whose
// command line names fleet-agent.mjs is attributed to a bench host by its network namespace,
// and its VmHWM (the kernel's own peak-RSS mark, so a late sample still sees the peak) is kept.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { netnsInode } from './lab.mjs';

const INTERVAL_MS = 100;

/**
 * @param {string[]} hosts bench hosts whose agents count
 * @returns {{ stop(): Record<string, number> }} peak VmHWM in KB per host (0 when none was seen)
 */
export function sampleAgents(hosts) {
  const hostByNetns = new Map(hosts.map((host) => [`net:[${netnsInode(host)}]`, host]));
  /** @type {Map<number, string | null>} pid → host, or null for a process that is no bench agent */
  const seen = new Map();
  /** @type {Record<string, number>} */
  const peakKb = Object.fromEntries(hosts.map((host) => [host, 0]));

  const tick = () => {
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) continue;
      if (!seen.has(pid)) seen.set(pid, classify(pid, hostByNetns));
      const host = seen.get(pid);
      if (!host) continue;
      const kb = vmHwmKb(pid);
      if (kb > peakKb[host]) peakKb[host] = kb;
    }
  };
  tick();
  const timer = setInterval(tick, INTERVAL_MS);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return peakKb;
    },
  };
}

/** @param {number} pid @param {Map<string, string>} hostByNetns */
function classify(pid, hostByNetns) {
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('fleet-agent.mjs')) return null;
    return hostByNetns.get(readlinkSync(`/proc/${pid}/ns/net`)) ?? null;
  } catch {
    return null;
  }
}

/** @param {number} pid */
function vmHwmKb(pid) {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
