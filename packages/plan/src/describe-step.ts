import type { ReplicationStep } from './steps.ts';
import { formatSnapshotNames } from './snapshot-ref.ts';

/** One human line per step: `full → @s2 (whole tree, -R)`, `incremental @s1 → @s2`, `blocked (CODE): ...`. */
export function describeStep(step: ReplicationStep): string {
  const tree = (step.kind === 'full' || step.kind === 'incremental') && step.recursive ? ' (whole tree, -R)' : '';
  switch (step.kind) {
    case 'full': {
      const replaces = step.replace ? `, replacing ${step.replace.snapshotsToDestroy.length} destination snapshot(s) and its data` : '';
      return `full → @${step.to.name}${tree}${replaces}`;
    }
    case 'incremental': {
      const rollback = step.rollback.length > 0 ? `, rolling back ${formatSnapshotNames(step.rollback)}` : '';
      return `incremental @${step.from.name} → @${step.to.name}${tree}${rollback}`;
    }
    case 'up-to-date':
      return `up to date at @${step.at.name}`;
    case 'blocked':
      return `blocked (${step.code}): ${step.reason}`;
    case 'resume':
      return 'resume the interrupted receive (zfs send -t)';
  }
}
