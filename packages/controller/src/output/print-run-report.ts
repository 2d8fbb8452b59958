import type { RunReport, StepReport, UnitReport } from '../backup/run-report.ts';
import { formatExportLines } from './format-export-report.ts';
import { formatBytes, formatDuration, formatTable } from './format.ts';

const COLOURS = { ok: 32, 'up-to-date': 32, planned: 36, blocked: 33, failed: 31 } as const;

function paint(text: string, status: keyof typeof COLOURS, colour: boolean): string {
  return colour ? `\x1b[${COLOURS[status]}m${text}\x1b[0m` : text;
}

export function describeAction(step: StepReport): string {
  const recursive = step.recursive ? ' -R' : '';
  switch (step.action) {
    case 'full':
      return step.from ? `full${recursive} @${step.from} + incremental → @${step.to}` : `full${recursive} @${step.to}`;
    case 'incremental':
      return `incremental${recursive} @${step.from} → @${step.to}`;
    case 'up-to-date':
      return `up-to-date @${step.to}`;
    case 'blocked':
      return `blocked (${step.code})`;
    case 'resume':
      return step.to ? `resume interrupted receive of @${step.to}` : 'resume interrupted receive';
  }
}

function stepRow(unit: UnitReport, step: StepReport, colour: boolean): string[] {
  const status = step.action === 'blocked' ? 'blocked' : unit.status === 'failed' ? 'failed' : unit.status === 'planned' ? 'planned' : 'ok';
  return [
    paint(status.toUpperCase(), status, colour),
    unit.host,
    step.dataset,
    `→ ${unit.peer}`,
    describeAction(step),
    step.bytes !== undefined ? formatBytes(step.bytes) : step.estimatedBytes !== undefined ? `≈ ${formatBytes(step.estimatedBytes)}${step.estimatedTo ? ` (to @${step.estimatedTo})` : ''}` : '',
    step.durationMs === undefined ? '' : formatDuration(step.durationMs),
  ];
}

/** The human summary: one line per host/dataset/peer step, then the reasons for anything not OK. */
export function formatRunReport(report: RunReport, options: { colour: boolean }): string {
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const unit of report.units) {
    if (unit.steps.length === 0) {
      rows.push([paint('FAILED', 'failed', options.colour), unit.host, unit.dataset, `→ ${unit.peer}`, unit.error?.code ?? '', '', '']);
    }
    for (const step of unit.steps) {
      rows.push(stepRow(unit, step, options.colour));
      if (step.reason) notes.push(`${unit.host} ${step.dataset} → ${unit.peer}: ${step.reason}`);
      for (const warning of step.warnings ?? []) notes.push(`${unit.host} ${step.dataset} → ${unit.peer}: warning: ${warning}`);
      if (step.destroys?.length) notes.push(`${unit.host} ${step.dataset} → ${unit.peer}: destroys on the peer: ${step.destroys.map((s) => `@${s}`).join(', ')}`);
    }
    if (unit.error) notes.push(`${unit.host} ${unit.dataset} → ${unit.peer}: ${unit.error.code}: ${unit.error.message}${unit.error.hint ? `\n    hint: ${unit.error.hint}` : ''}`);
  }
  const sequenceLines = formatSequences(report);
  const exportLines = formatExportLines(report.exports ?? [], report.exportPrune ?? []);
  const failed = report.units.filter((unit) => unit.status === 'failed' || unit.status === 'blocked').length;
  const verb = report.command === 'plan' ? 'planned' : 'backed up';
  const steps = report.units.flatMap((unit) => unit.steps);
  const totalBytes = steps.reduce((sum, step) => sum + (step.bytes ?? 0), 0);
  const estimated = steps.filter((step) => step.estimatedBytes !== undefined);
  const estimate = report.command === 'plan' && estimated.length > 0 ? `, ≈ ${formatBytes(estimated.reduce((sum, step) => sum + step.estimatedBytes!, 0))} to send (zfs send -nP)` : '';
  const footer = report.ok
    ? `${report.units.length} unit(s) ${verb}${report.command === 'backup' ? `, ${formatBytes(totalBytes)} sent` : estimate} in ${formatDuration(report.durationMs)}.`
    : `${failed} of ${report.units.length} unit(s) did not succeed (${formatDuration(report.durationMs)}).`;
  const sequencesFailed = (report.sequences ?? []).filter((sequence) => !sequence.ok).length;
  const exportsFailed = [...(report.exports ?? []), ...(report.exportPrune ?? [])].filter((entry) => entry.status === 'failed' || entry.status === 'blocked').length;
  const extra = (report.ok || sequencesFailed === 0 ? '' : ` ${sequencesFailed} entr${sequencesFailed === 1 ? 'y' : 'ies'} had a failed step.`) + (exportsFailed > 0 ? ` ${exportsFailed} export step(s) did not succeed.` : '');
  return [formatTable(rows), ...(notes.length ? ['', ...notes] : []), ...(exportLines.length ? ['', 'Exports:', ...exportLines] : []), ...(sequenceLines.length ? ['', ...sequenceLines] : []), '', footer + extra].join('\n');
}

/** Per entry, its steps in one line (`lock ok, preSnapshot FAILED, ...`), the failures' reasons, and what pruning did. */
function formatSequences(report: RunReport): string[] {
  const lines: string[] = [];
  for (const sequence of report.sequences ?? []) {
    lines.push(`${sequence.host} ${sequence.dataset}: ${sequence.steps.map((step) => `${step.step} ${step.status === 'ok' ? 'ok' : step.status.toUpperCase()}`).join(', ')}`);
    for (const step of sequence.steps) {
      if (step.error) lines.push(`    ${step.step}: ${step.error.code}: ${step.error.message}${step.error.hint ? `\n    hint: ${step.error.hint}` : ''}`);
      else if (step.detail && (step.step === 'lock' || step.step === 'pruneSnapshots')) lines.push(`    ${step.step}: ${step.detail}`);
    }
  }
  return lines;
}
