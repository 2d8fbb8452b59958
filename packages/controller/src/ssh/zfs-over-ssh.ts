import { shellQuote } from '@zfs-fleet/protocol';
import { zfsFailure, type ZfsExec } from '@zfs-fleet/zfs';
import type { SshConnection } from './connect-host.ts';
import { runCommand } from './run-command.ts';

/**
 * packages/zfs's runner over a plain SSH login, for checks that must work where no agent
 * does (`fleet doctor`): the zfs verbs and their parsing stay in packages/zfs.
 */
export function zfsOverSsh(connection: SshConnection, options: { timeoutMs: number }): ZfsExec {
  let total = 0;
  const byVerb: Record<string, number> = {};
  return {
    async run(argv, runOptions = {}) {
      total += 1;
      byVerb[argv[0] ?? ''] = (byVerb[argv[0] ?? ''] ?? 0) + 1;
      const result = await runCommand(connection, ['zfs', ...argv].map(shellQuote).join(' '), { timeoutMs: options.timeoutMs });
      if (result.exitCode !== 0 && !runOptions.allowFailure) throw zfsFailure(argv, result.stderr, result.exitCode);
      return result;
    },
    spawn() {
      throw new Error('zfsOverSsh runs calls, not streams');
    },
    calls: () => ({ total, byVerb: { ...byVerb } }),
  };
}
