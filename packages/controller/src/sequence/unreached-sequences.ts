import { entrySettings, type BackupEntry, type FleetConfig, type FleetErrorShape } from '@zfs-fleet/protocol';
import type { EntrySequenceReport } from './sequence-report.ts';

/**
 * Pure: the sequence reports of entries that send nothing (no `replicate` step) on source hosts
 * the run could not reach, which never got a sequence of their own: the first step failed with
 * the host's error. Entries that replicate are on record through their units already.
 */
export function unreachedSequences(config: FleetConfig, entries: ReadonlyArray<{ host: string; entry: BackupEntry }>, hostErrors: ReadonlyMap<string, FleetErrorShape>, reported: readonly EntrySequenceReport[]): EntrySequenceReport[] {
  const seen = new Set(reported.map((sequence) => `${sequence.host}\u0000${sequence.dataset}`));
  const result: EntrySequenceReport[] = [];
  for (const { host, entry } of entries) {
    const error = hostErrors.get(host);
    const steps = entrySettings(config, entry).sequence;
    const key = `${host}\u0000${entry.dataset}`;
    if (!error || steps.includes('replicate') || seen.has(key)) continue;
    seen.add(key);
    result.push({ host, dataset: entry.dataset, ok: false, steps: [{ step: steps[0]!, status: 'failed', error }] });
  }
  return result;
}
