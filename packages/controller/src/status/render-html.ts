import { FLEET_VERSION } from '@zfs-fleet/protocol';
import { formatBytes, formatDuration } from '../output/format.ts';
import type { JournalRecord } from '../state/journal.ts';
import { formatAge } from '../verify/verify-entry.ts';
import type { UnitStatusRow } from './compute-status.ts';

/** A unit's word on the page: a failing latest run outranks the age of the copy. */
export type CellState = 'OK' | 'AGING' | 'STALE' | 'NEVER' | 'FAILING';

/** Runs shown on the timeline, newest last. */
export const TIMELINE_RUNS = 30;

export interface StatusPage {
  rows: readonly UnitStatusRow[];
  journal: readonly JournalRecord[];
  now: Date;
  /** Shown in the header: which config and state this page describes. */
  configPath: string;
  stateDir: string;
}

/** One run of `fleet backup` or `fleet run`, from its journal records. */
export interface RunSummary {
  runId: string;
  command: string;
  startedAt: number;
  finishedAt: number;
  bytes: number;
  units: JournalRecord[];
  failed: number;
}

/**
 * The cell's state: FAILING if the latest run failed, NEVER without a copy, STALE past the rpo,
 * AGING past three quarters of it (time to look before it goes stale), else OK.
 */
export function cellState(row: UnitStatusRow): CellState {
  if (row.failing) return 'FAILING';
  if (row.rpoState !== 'OK') return row.rpoState;
  return row.rpoMs !== undefined && (row.newestCopyAgeMs ?? 0) > 0.75 * row.rpoMs ? 'AGING' : 'OK';
}

/** Journal records grouped by run, oldest first. */
export function summarizeRuns(journal: readonly JournalRecord[]): RunSummary[] {
  const runs = new Map<string, RunSummary>();
  for (const record of journal) {
    let run = runs.get(record.runId);
    if (!run) {
      run = { runId: record.runId, command: record.command, startedAt: Infinity, finishedAt: -Infinity, bytes: 0, units: [], failed: 0 };
      runs.set(record.runId, run);
    }
    run.startedAt = Math.min(run.startedAt, Date.parse(record.startedAt));
    run.finishedAt = Math.max(run.finishedAt, Date.parse(record.finishedAt));
    run.bytes += record.bytes;
    run.units.push(record);
    if (record.status === 'failed' || record.status === 'blocked') run.failed += 1;
  }
  return [...runs.values()].sort((a, b) => a.startedAt - b.startedAt);
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `
:root { font: 14px/1.4 system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
body { margin: 24px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
.meta { color: #5b6475; }
.summary span { display: inline-block; margin-right: 12px; padding: 2px 8px; border-radius: 10px; color: #fff; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #dde1e8; padding: 6px 10px; text-align: left; vertical-align: top; }
th { background: #eef0f4; font-weight: 600; }
td.cell { min-width: 130px; color: #fff; }
td.cell small { display: block; opacity: .9; }
td.none { background: #fafbfc; color: #aab0bb; }
.OK { background: #2e8b57; } .AGING { background: #c49a00; } .STALE { background: #d9661f; } .NEVER { background: #8a93a3; } .FAILING { background: #c62828; }
.timeline { background: #fff; border: 1px solid #dde1e8; }
.timeline text { font-size: 11px; fill: #5b6475; }
.timeline rect.OK { fill: #2e8b57; } .timeline rect.FAILING { fill: #c62828; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { background: #eef0f4; padding: 1px 4px; border-radius: 3px; }
.hint { color: #5b6475; }
`;

/** One self-contained HTML page (inline CSS and SVG, no script, nothing fetched): grid, timeline, failures. */
export function renderStatusHtml(page: StatusPage): string {
  const counts = new Map<CellState, number>();
  for (const row of page.rows) counts.set(cellState(row), (counts.get(cellState(row)) ?? 0) + 1);
  const runs = summarizeRuns(page.journal).slice(-TIMELINE_RUNS);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>zfs-fleet status</title>
<style>${STYLE}</style>
</head>
<body>
<h1>zfs-fleet status</h1>
<p class="meta">at <time datetime="${page.now.toISOString()}">${escapeHtml(page.now.toISOString())}</time> · config ${escapeHtml(page.configPath)} · journal in ${escapeHtml(page.stateDir)} · fleet ${FLEET_VERSION}</p>
<p class="summary" id="summary">${(['OK', 'AGING', 'STALE', 'NEVER', 'FAILING'] as const)
    .filter((state) => counts.has(state))
    .map((state) => `<span class="${state}" data-state="${state}">${counts.get(state)} ${state}</span>`)
    .join('')}</p>
<h2>Copies: age of the newest copy against the rpo</h2>
${renderGrid(page)}
<h2>Recent runs</h2>
${renderTimeline(runs)}
<h2>Failures</h2>
${renderFailures(page)}
</body>
</html>
`;
}

/** Rows: host and dataset; columns: every peer; a cell per configured (host, dataset, peer). */
function renderGrid(page: StatusPage): string {
  if (page.rows.length === 0) return '<p>No backup entries in the config.</p>';
  const peers = [...new Set(page.rows.map((row) => row.peer))].sort();
  const sources = new Map<string, UnitStatusRow[]>();
  for (const row of page.rows) {
    const key = `${row.host}\u0000${row.dataset}`;
    sources.set(key, [...(sources.get(key) ?? []), row]);
  }
  const body = [...sources.values()].map((units) => {
    const { host, dataset } = units[0]!;
    const cells = peers.map((peer) => {
      const row = units.find((unit) => unit.peer === peer);
      if (!row) return '<td class="none">–</td>';
      const state = cellState(row);
      const age = row.newestCopyAgeMs === undefined ? 'no copy yet' : `${formatAge(Math.max(0, row.newestCopyAgeMs))} old`;
      const rpo = row.rpoMs === undefined ? 'no rpo' : `rpo ${formatAge(row.rpoMs)}`;
      const title = [row.lastSuccess ? `last success ${row.lastSuccess.at}` : 'never succeeded', row.newestCopy?.snapshot ? `newest copy ${row.newestCopy.snapshot}` : '', row.lastFailure ? `last failure ${row.lastFailure.at}: ${row.lastFailure.code}` : '']
        .filter(Boolean)
        .join('\n');
      return `<td class="cell ${state}" data-host="${escapeHtml(host)}" data-dataset="${escapeHtml(dataset)}" data-peer="${escapeHtml(peer)}" data-state="${state}"${row.newestCopyAgeMs === undefined ? '' : ` data-age-ms="${row.newestCopyAgeMs}"`}${row.rpoMs === undefined ? '' : ` data-rpo-ms="${row.rpoMs}"`} title="${escapeHtml(title)}">${state}<small>${escapeHtml(age)} · ${escapeHtml(rpo)}</small></td>`;
    });
    return `<tr><th scope="row">${escapeHtml(host)}</th><td>${escapeHtml(dataset)}</td>${cells.join('')}</tr>`;
  });
  return `<table id="grid">
<thead><tr><th>host</th><th>dataset</th>${peers.map((peer) => `<th scope="col">→ ${escapeHtml(peer)}</th>`).join('')}</tr></thead>
<tbody>
${body.join('\n')}
</tbody>
</table>`;
}

/** An SVG bar per run on a shared time axis (width = duration, at least a sliver), then the same runs as a table. */
function renderTimeline(runs: readonly RunSummary[]): string {
  if (runs.length === 0) return '<p>No runs in the journal yet.</p>';
  const width = 900;
  const rowHeight = 18;
  const left = 150;
  const start = runs[0]!.startedAt;
  const span = Math.max(1, Math.max(...runs.map((run) => run.finishedAt)) - start);
  const x = (at: number) => left + ((at - start) / span) * (width - left - 10);
  const bars = runs.map((run, i) => {
    const y = 10 + i * rowHeight;
    const state = run.failed > 0 ? 'FAILING' : 'OK';
    const barWidth = Math.max(3, x(run.finishedAt) - x(run.startedAt));
    return `<g class="run" data-run-id="${escapeHtml(run.runId)}"><text x="4" y="${y + 12}">${escapeHtml(new Date(run.startedAt).toISOString().slice(0, 16).replace('T', ' '))}</text><rect class="${state}" x="${x(run.startedAt).toFixed(1)}" y="${y + 2}" width="${barWidth.toFixed(1)}" height="${rowHeight - 6}" rx="2"><title>${escapeHtml(`${run.command} ${run.runId}: ${formatBytes(run.bytes)} in ${formatDuration(run.finishedAt - run.startedAt)}, ${run.units.length - run.failed}/${run.units.length} units ok`)}</title></rect><text x="${Math.min(x(run.startedAt) + barWidth + 6, width - 170).toFixed(1)}" y="${y + 12}">${escapeHtml(`${formatBytes(run.bytes)} · ${formatDuration(run.finishedAt - run.startedAt)}${run.failed > 0 ? ` · ${run.failed} failed` : ''}`)}</text></g>`;
  });
  const svg = `<svg class="timeline" id="timeline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${20 + runs.length * rowHeight}" role="img" aria-label="runs over time">${bars.join('')}</svg>`;
  const rows = [...runs].reverse().map((run) => {
    const units = run.units.map((unit) => `${escapeHtml(unit.host)}:${escapeHtml(unit.dataset)} → ${escapeHtml(unit.peer)} <b>${unit.status}</b> ${formatBytes(unit.bytes)} in ${formatDuration(unit.durationMs)}`).join('<br>');
    return `<tr data-run-id="${escapeHtml(run.runId)}"><td>${escapeHtml(new Date(run.startedAt).toISOString())}</td><td>${escapeHtml(run.command)}</td><td class="num" data-bytes="${run.bytes}">${formatBytes(run.bytes)}</td><td class="num" data-duration-ms="${run.finishedAt - run.startedAt}">${formatDuration(run.finishedAt - run.startedAt)}</td><td class="${run.failed > 0 ? 'FAILING' : 'OK'}" style="color:#fff">${run.units.length - run.failed}/${run.units.length} ok</td><td>${units}</td></tr>`;
  });
  return `${svg}
<table id="runs">
<thead><tr><th>started</th><th>command</th><th>bytes</th><th>duration</th><th>units</th><th>details</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

/** Units whose latest run failed: what, when, the code and the hint. */
function renderFailures(page: StatusPage): string {
  const failing = page.rows.filter((row) => row.failing && row.lastFailure);
  if (failing.length === 0) return '<p id="failures">No unit is failing.</p>';
  const hints = new Map<string, string | undefined>();
  for (const record of page.journal) if (record.error) hints.set(`${record.host}\u0000${record.dataset}\u0000${record.peer}`, record.error.hint);
  const rows = failing.map((row) => {
    const hint = hints.get(`${row.host}\u0000${row.dataset}\u0000${row.peer}`);
    return `<tr class="failure" data-code="${escapeHtml(row.lastFailure!.code)}"><td>${escapeHtml(row.host)}</td><td>${escapeHtml(row.dataset)}</td><td>${escapeHtml(row.peer)}</td><td>${escapeHtml(row.lastFailure!.at)}</td><td><code>${escapeHtml(row.lastFailure!.code)}</code></td><td>${escapeHtml(row.lastFailure!.message)}${hint ? `<div class="hint">hint: ${escapeHtml(hint)}</div>` : ''}</td></tr>`;
  });
  return `<table id="failures">
<thead><tr><th>host</th><th>dataset</th><th>peer</th><th>failed at</th><th>code</th><th>message</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}
