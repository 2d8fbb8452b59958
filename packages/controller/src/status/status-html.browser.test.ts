import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { stringify } from 'yaml';
import type { JournalRecord } from '../state/journal.ts';

// `fleet status --html` rendered by a real browser: Debian's headless Chromium, driven by
// playwright-core, loads the page the built CLI wrote from a journal with known runs.
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const FLEET = path.join(REPO, 'packages/controller/dist/fleet.mjs');
const CHROMIUM = '/usr/bin/chromium';
/** Where the screenshot goes (a test artifact; docs/status-report.png is a copy of one). */
const ARTIFACTS = path.join(REPO, 'dist/test-artifacts');
const NOW = '2026-11-23T12:00:00.000Z';

/** One journal record of a run (runs start at `at`, units take `seconds`). */
function unit(runId: string, at: string, host: string, dataset: string, peer: string, outcome: Partial<JournalRecord> & { seconds: number }): JournalRecord {
  const { seconds, ...rest } = outcome;
  return { runId, command: 'run', startedAt: at, finishedAt: new Date(Date.parse(at) + seconds * 1000).toISOString(), host, dataset, peer, status: 'ok', bytes: 0, durationMs: seconds * 1000, ...rest };
}

const R1 = '2026-11-23T09:00:00.000Z';
const R2 = '2026-11-23T11:30:00.000Z';
const JOURNAL: JournalRecord[] = [
  unit('r1', R1, 'src1', 'tank/Media', 'backup1', { seconds: 12, bytes: 300_000_000, snapshot: 'fleet-20261123T090000.000Z' }),
  unit('r1', R1, 'src1', 'tank/Media', 'backup2', { seconds: 14, bytes: 300_000_000, snapshot: 'fleet-20261123T090000.000Z' }),
  unit('r1', R1, 'src1', 'tank/Home', 'backup1', { seconds: 3, bytes: 20_000_000, snapshot: 'fleet-20261123T090000.000Z' }),
  unit('r1', R1, 'src2', 'tank/Media', 'backup1', { seconds: 9, bytes: 150_000_000, snapshot: 'fleet-20261123T090000.000Z' }),
  unit('r2', R2, 'src1', 'tank/Media', 'backup1', { seconds: 2, bytes: 20_971_520, snapshot: 'fleet-20261123T113000.000Z' }),
  unit('r2', R2, 'src1', 'tank/Media', 'backup2', {
    seconds: 10,
    status: 'failed',
    error: { code: 'SSH_CONNECT_FAILED', message: 'Cannot connect to backup2 (10.77.0.22:22): connect ETIMEDOUT.', hint: 'Check that backup2 is up and reachable <from> src1.' },
  }),
];

let browser: Browser;
let page: string;

beforeAll(async () => {
  expect(existsSync(FLEET), 'build first: npx turbo run build').toBe(true);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-html-'));
  const stateDir = path.join(dir, 'state');
  await mkdir(stateDir);
  await writeFile(path.join(stateDir, 'journal.jsonl'), JOURNAL.map((record) => `${JSON.stringify(record)}\n`).join(''));
  await writeFile(
    path.join(dir, 'fleet.yaml'),
    stringify({
      ssh: { identityFile: './key', knownHosts: './known_hosts' },
      stateDir,
      hosts: {
        src1: {
          address: '10.77.0.11',
          backups: [
            { dataset: 'tank/Media', to: ['backup1', 'backup2'], rpo: '1h' },
            { dataset: 'tank/Home', to: ['backup1'], rpo: '210m' },
          ],
        },
        src2: {
          address: '10.77.0.12',
          backups: [
            { dataset: 'tank/Media', to: ['backup1'], rpo: '1h' },
            { dataset: 'tank/Docs', to: ['backup2'] },
          ],
        },
        backup1: { address: '10.77.0.21', receive: { root: 'backup/fleet' } },
        backup2: { address: '10.77.0.22', receive: { root: 'backup/fleet' } },
      },
    }),
  );
  page = path.join(dir, 'status.html');
  const run = await execa('node', [FLEET, '--config', path.join(dir, 'fleet.yaml'), 'status', '--html', page, '--now', NOW], { reject: false });
  // Not all units are OK: exit 1, and the page is written all the same.
  expect(run.exitCode, run.stderr).toBe(1);
  expect(run.stdout).toContain(`Wrote ${page}`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

test('the page shows hosts × datasets × peers by copy age vs rpo, the runs, and the failure with its code and hint; it fetches nothing', async () => {
  const tab = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  const requests: string[] = [];
  const errors: string[] = [];
  tab.on('request', (request) => requests.push(request.url()));
  tab.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await tab.goto(pathToFileURL(page).href);

  // The grid: one cell per configured (host, dataset, peer), with the state its age and rpo give.
  const cells = await tab.$$eval('#grid td.cell', (tds) => tds.map((td) => [td.dataset.host, td.dataset.dataset, td.dataset.peer, td.dataset.state, getComputedStyle(td).backgroundColor]));
  expect(cells).toEqual([
    ['src1', 'tank/Media', 'backup1', 'OK', 'rgb(46, 139, 87)'], // 30 min old, rpo 1 h
    ['src1', 'tank/Media', 'backup2', 'FAILING', 'rgb(198, 40, 40)'], // its latest run failed
    ['src1', 'tank/Home', 'backup1', 'AGING', 'rgb(196, 154, 0)'], // 3 h old, rpo 3.5 h
    ['src2', 'tank/Media', 'backup1', 'STALE', 'rgb(217, 102, 31)'], // 3 h old, rpo 1 h
    ['src2', 'tank/Docs', 'backup2', 'NEVER', 'rgb(138, 147, 163)'],
  ]);
  // Peers a dataset does not go to are empty cells, not states.
  expect(await tab.$$eval('#grid td.none', (tds) => tds.length)).toBe(3);
  expect(await tab.textContent('#grid td[data-state="STALE"]')).toContain('3h old · rpo 60m');

  // The timeline: both runs, as bars and as table rows with their bytes and durations.
  expect(await tab.$$eval('#timeline g.run', (runs) => runs.map((run) => (run as SVGGElement).dataset.runId))).toEqual(['r1', 'r2']);
  const runs = await tab.$$eval('#runs tbody tr', (rows) =>
    rows.map((row) => [row.getAttribute('data-run-id'), row.querySelector('[data-bytes]')!.getAttribute('data-bytes'), row.querySelector('[data-duration-ms]')!.getAttribute('data-duration-ms'), row.children[4]!.textContent]),
  );
  expect(runs).toEqual([
    ['r2', '20971520', '10000', '1/2 ok'],
    ['r1', '770000000', '14000', '4/4 ok'],
  ]);
  expect(await tab.textContent('#runs tbody tr[data-run-id="r2"]')).toContain('21.0 MB');

  // Failures: the code and the hint, escaped as text.
  const failures = await tab.$$eval('#failures tr.failure', (rows) => rows.map((row) => [row.getAttribute('data-code'), row.querySelector('.hint')?.textContent]));
  expect(failures).toEqual([['SSH_CONNECT_FAILED', 'hint: Check that backup2 is up and reachable <from> src1.']]);
  expect(await tab.textContent('#summary')).toBe('1 OK1 AGING1 STALE1 NEVER1 FAILING');

  // Self-contained: the page itself is the only request, and nothing complained.
  expect(requests).toEqual([pathToFileURL(page).href]);
  expect(errors).toEqual([]);

  await mkdir(ARTIFACTS, { recursive: true });
  await tab.screenshot({ path: path.join(ARTIFACTS, 'status-report.png'), fullPage: true });
});
