import type { ResumeTokenInfo } from '@zfs-fleet/protocol';
import type { ZfsExec } from './exec.ts';

/**
 * Parses what `zfs send -nv -t TOKEN` prints before anything else: "resume token contents:"
 * and the token's nvlist (`toname = pool/ds@snap`, `toguid = 0x...`, `fromguid = 0x...` for an
 * incremental). zfs prints it even when the snapshot the token names is gone (it then fails
 * with "... used in the initial send no longer exists"), so a stale token can still be named.
 */
export function parseResumeToken(output: string): Omit<ResumeTokenInfo, 'token'> | undefined {
  const fields = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^\s+([a-z_]+) = (.*)$/.exec(line);
    if (match) fields.set(match[1]!, match[2]!.trim());
  }
  const toName = fields.get('toname');
  const toGuid = guidOf(fields.get('toguid'));
  if (!toName || !toGuid) return undefined;
  const fromGuid = guidOf(fields.get('fromguid'));
  return { toName, toGuid, ...(fromGuid ? { fromGuid } : {}) };
}

/** nvlist prints uint64s in hex; our guids are decimal strings (as `zfs get -p` prints them). */
function guidOf(value: string | undefined): string | undefined {
  if (!value || !/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(value)) return undefined;
  const guid = BigInt(value).toString(10);
  return guid === '0' ? undefined : guid;
}

/** Decodes a resume token on the host that would send it; undefined when zfs cannot read it. */
export async function decodeResumeToken(zfs: ZfsExec, token: string): Promise<ResumeTokenInfo | undefined> {
  const result = await zfs.run(['send', '-n', '-v', '-t', token], { allowFailure: true });
  const info = parseResumeToken(`${result.stdout}\n${result.stderr}`);
  return info ? { token, ...info } : undefined;
}
