import { AGENT_LAUNCHER_PATH, FleetError, type FleetErrorCode } from '@zfs-fleet/protocol';

/** The oldest Node.js major the agent bundle targets (esbuild `node18`). */
export const MIN_AGENT_NODE_MAJOR = 18;

export const AGENT_PREFIX = '/opt/zfs-fleet';

/** Where one version of the agent bundle lives on a host; versions sit side by side, the launcher picks one. */
export function agentBundlePath(version: string): string {
  return `${AGENT_PREFIX}/lib/fleet-agent-${version}.mjs`;
}

/** Where one version of the agent's single executable (linux-x64, Node.js inside) lives on a host. */
export function agentExecutablePath(version: string): string {
  return `${AGENT_PREFIX}/lib/fleet-agent-${version}-linux-x64`;
}

/**
 * The `fleet-agent` launcher: a fixed path that runs one version of the agent, a bundle on a
 * Node.js or the single executable. Paths are plain characters (the config schema checks the runtime).
 */
export function launcherScript(version: string, argv: readonly string[]): string {
  return `#!/bin/sh\n# zfs-fleet agent ${version}, installed by \`fleet agent install\`.\nexec ${argv.map((word) => `'${word}'`).join(' ')} "$@"\n`;
}

export { AGENT_LAUNCHER_PATH };

/**
 * A POSIX sh script printing what the install needs to know about a host, one `key=value` a
 * line: where zfs is, which Node.js would run the agent, and its version.
 */
export function probeScript(runtime: string | undefined): string {
  return [
    `printf 'zfs=%s\\n' "$(command -v zfs)"`,
    `printf 'platform=%s-%s\\n' "$(uname -s)" "$(uname -m)"`,
    runtime ? `node='${runtime}'` : 'node=$(command -v node)',
    `printf 'node=%s\\n' "$node"`,
    `if [ -n "$node" ] && [ -x "$node" ]; then printf 'version=%s\\n' "$("$node" --version 2>&1 | head -n 1)"; fi`,
  ].join('\n');
}

export interface HostProbe {
  zfs?: string;
  /** `uname -s`-`uname -m`, e.g. Linux-x86_64. */
  platform?: string;
  node?: string;
  /** What `node --version` printed; absent when there is no runnable node. */
  nodeVersion?: string;
}

export function parseProbe(stdout: string): HostProbe {
  const probe: HostProbe = {};
  for (const line of stdout.split('\n')) {
    const match = /^(zfs|platform|node|version)=(.*)$/.exec(line.trim());
    if (!match || match[2] === '') continue;
    if (match[1] === 'zfs') probe.zfs = match[2];
    else if (match[1] === 'platform') probe.platform = match[2];
    else if (match[1] === 'node') probe.node = match[2];
    else probe.nodeVersion = match[2];
  }
  return probe;
}

/** `v18.20.8` → its major version; undefined for anything that is not a Node.js version. */
export function nodeMajor(version: string): number | undefined {
  const match = /^v?(\d+)\.\d+\.\d+/.exec(version.trim());
  return match ? Number(match[1]) : undefined;
}

export interface MissingPrerequisite {
  code: FleetErrorCode;
  /** What is missing and how to fix it, naming the host. */
  message: string;
}

/** What a host lacks to run the agent; empty when it has zfs and a Node.js ≥ 18. */
export function missingPrerequisites(host: string, probe: HostProbe, runtime: string | undefined): MissingPrerequisite[] {
  const missing: MissingPrerequisite[] = [];
  if (!probe.zfs) missing.push({ code: 'ZFS_NOT_FOUND', message: `${host} has no zfs on PATH: install zfsutils-linux (or make zfs reachable in non-interactive SSH sessions)` });
  const fix = runtime ? `install Node.js ≥ ${MIN_AGENT_NODE_MAJOR} there or point agent.runtime at one` : `apt install nodejs (Debian 12 ships 18, Debian 13 ships 20) or set agent.runtime to a Node.js ≥ ${MIN_AGENT_NODE_MAJOR}`;
  if (!probe.nodeVersion) {
    const where = runtime ? `at ${runtime} (agent.runtime)` : 'on PATH';
    missing.push({ code: 'AGENT_RUNTIME_MISSING', message: `${host} has no Node.js ${where}: ${fix}` });
  } else {
    const major = nodeMajor(probe.nodeVersion);
    if (major === undefined) {
      missing.push({ code: 'AGENT_RUNTIME_MISSING', message: `${host}: "${probe.node} --version" printed "${probe.nodeVersion}", not a Node.js version; the agent needs Node.js ≥ ${MIN_AGENT_NODE_MAJOR}: ${fix}` });
    } else if (major < MIN_AGENT_NODE_MAJOR) {
      const upgrade = runtime ? fix : `apt install nodejs from bookworm or newer, or set agent.runtime to a Node.js ≥ ${MIN_AGENT_NODE_MAJOR}`;
      missing.push({ code: 'AGENT_RUNTIME_MISSING', message: `${host} has Node.js ${probe.nodeVersion.trim()} (${probe.node}); the agent needs ≥ ${MIN_AGENT_NODE_MAJOR}: ${upgrade}` });
    }
  }
  return missing;
}

/** How the agent will run on a host: a bundle on the host's Node.js, or the single executable. */
export type RuntimePlan = { kind: 'node'; node: string; nodeVersion: string } | { kind: 'bundled'; why: string };

/** The only platform the single executable is built for (`uname -s`-`uname -m`). */
export const BUNDLED_PLATFORM = 'Linux-x86_64';

/**
 * Picks the agent's runtime: `agent.runtime: bundled` → the single executable; an
 * `agent.runtime` path → that Node.js, which must be ≥ 18; else the `node` on PATH when it is
 * ≥ 18, and the single executable when it is missing or older (on Linux x86_64 only).
 */
export function chooseRuntime(host: string, probe: HostProbe, configured: string | undefined): { plan?: RuntimePlan; missing: MissingPrerequisite[] } {
  if (configured === 'bundled') {
    const missing = missingPrerequisites(host, probe, configured).filter((item) => item.code !== 'AGENT_RUNTIME_MISSING');
    if (probe.platform !== BUNDLED_PLATFORM) {
      missing.push({
        code: 'AGENT_RUNTIME_MISSING',
        message: `${host} is ${probe.platform ?? 'of an unknown platform'}; the agent's single executable (agent.runtime: bundled) is built for ${BUNDLED_PLATFORM} only: install Node.js ≥ ${MIN_AGENT_NODE_MAJOR} there and point agent.runtime at it`,
      });
    }
    return missing.length > 0 ? { missing } : { plan: { kind: 'bundled', why: 'agent.runtime: bundled' }, missing };
  }
  const missing = missingPrerequisites(host, probe, configured);
  if (missing.length === 0) return { plan: { kind: 'node', node: probe.node!, nodeVersion: probe.nodeVersion!.trim() }, missing };
  const others = missing.filter((item) => item.code !== 'AGENT_RUNTIME_MISSING');
  // Without a configured runtime, a Linux x86_64 host lacks no runtime: it takes the single executable.
  if (configured !== undefined || probe.platform !== BUNDLED_PLATFORM) return { missing };
  if (others.length > 0) return { missing: others };
  const why = probe.nodeVersion ? `${probe.node} is Node.js ${probe.nodeVersion.trim()}, older than ${MIN_AGENT_NODE_MAJOR}` : 'no Node.js on PATH';
  return { plan: { kind: 'bundled', why }, missing: [] };
}

/** One error for everything a host lacks, coded after the first. */
export function prerequisiteError(host: string, missing: readonly MissingPrerequisite[]): FleetError {
  return new FleetError(missing[0]!.code, `${missing.map((item) => item.message).join('; ')}.`, {
    hint: `Then run \`fleet agent install ${host}\` again.`,
    details: { host, missing: missing.map((item) => item.code) },
  });
}
