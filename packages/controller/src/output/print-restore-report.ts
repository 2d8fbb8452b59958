import type { RestoreReport } from '../restore/run-restore.ts';
import { formatBytes, formatDuration, formatTable } from './format.ts';
import { describeAction } from './print-run-report.ts';

/** The plan, printed before anything runs: per dataset what comes back, and from where. */
export function formatRestorePlan(report: RestoreReport): string {
  const header = `restore ${report.host}:${report.dataset} from ${report.from} (${report.copy}) to ${report.target.host}:${report.target.dataset}${report.recursive ? ', with its children' : ''}`;
  const rows = report.steps.map((step) => [step.action === 'blocked' ? 'BLOCKED' : 'PLAN', step.destination, describeAction(step)]);
  const notes = report.steps.flatMap((step) => [
    ...(step.reason ? [`${step.destination}: ${step.reason}`] : []),
    ...(step.warnings ?? []).map((warning) => `${step.destination}: warning: ${warning}`),
    ...(step.destroys?.length ? [`${step.destination}: destroys on ${report.target.host}: ${step.destroys.map((s) => `@${s}`).join(', ')}`] : []),
  ]);
  return [header, formatTable(rows), ...notes].join('\n');
}

export function formatRestoreResult(report: RestoreReport): string {
  if (report.error) return `FAILED: ${report.error.code}: ${report.error.message}${report.error.hint ? `\nhint: ${report.error.hint}` : ''}`;
  if (report.status === 'blocked') return 'Nothing was restored: the plan is blocked (see above).';
  if (report.status === 'planned') return 'Dry run: nothing was restored.';
  const bytes = report.steps.reduce((sum, step) => sum + (step.bytes ?? 0), 0);
  return report.status === 'up-to-date'
    ? `${report.target.host}:${report.target.dataset} already holds that snapshot; nothing to do.`
    : `Restored ${report.target.host}:${report.target.dataset} (${formatBytes(bytes)} in ${formatDuration(report.durationMs)}); ${describeRestoredState(report)}`;
}

/** What the restored dataset is now, from zfs's own answer: never more than it said. */
export function describeRestoredState(report: Pick<RestoreReport, 'state' | 'target'>): string {
  const state = report.state;
  if (!state) return 'its state could not be read.';
  const access = state.readonly ? 'read-only' : 'read-write';
  if (state.keystatus === 'unavailable') {
    const dataset = report.target.dataset;
    return `it is ${access} but encrypted, and its key is not loaded there (keystatus=unavailable), so it is ${state.mounted ? 'mounted' : 'not mounted'}. On ${report.target.host} run \`zfs load-key ${dataset}\` (with the dataset's passphrase or key) and then \`zfs mount ${dataset}\`.`;
  }
  return `it is ${access} and ${state.mounted ? 'mounted' : 'not mounted'}${state.keystatus ? ` (keystatus=${state.keystatus})` : ''}.`;
}
