import type { ZfsCallsOutput } from '@zfs-fleet/protocol';
import type { Sessions } from './gather-trees.ts';

/**
 * Each host's zfs calls during the run, as its agent counted them, for the hosts whose session
 * opened. Never throws: a host whose channel dropped since is left out, its run still reported.
 */
export async function collectZfsCalls(sessions: Sessions, hosts: readonly string[]): Promise<Map<string, ZfsCallsOutput>> {
  const counted = await Promise.all(
    hosts.map(async (host) => {
      const session = await sessions.get(host).catch(() => undefined);
      return [host, session ? await session.agent.zfsCalls.query().catch(() => undefined) : undefined] as const;
    }),
  );
  return new Map(counted.filter((entry): entry is readonly [string, ZfsCallsOutput] => entry[1] !== undefined));
}
