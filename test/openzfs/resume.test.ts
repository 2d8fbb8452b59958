import { execa } from 'execa';
import { shellQuote } from '@zfs-fleet/protocol';
import { parseSendEstimate } from '@zfs-fleet/zfs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLEET_BIN, fileHashes, getProp, holds, runFleet, snapshotGuids, uniqueName, vm, writeConfig, writeRandom } from './support.ts';

// Streams are paced to 3 MB/s (pv -L) so that a transfer can be cut halfway, every time.
const RATE = 3_000_000;
const name = uniqueName('big');
const dataset = `tank/${name}`;
const copy = `backup/fleet/src/${dataset}`;
/** The source agent's ssh to the peer: its remote command is the quoted words of `zfs recv` (a plain word needs no quotes). */
const SOURCE_SSH = '^ssh .* -- zfs recv ';
let config: string;

beforeAll(async () => {
  await vm().zfs(['create', dataset]);
  await writeRandom(`/${dataset}/big.bin`, 24);
  config = await writeConfig({ src: [{ dataset, to: ['bak'] }] }, { wire: { bandwidthLimitBytesPerSecond: RATE } });
  const install = await runFleet(config, ['agent', 'install', 'src']);
  expect(install.exitCode, install.stdout + install.stderr).toBe(0);
});

/**
 * Runs `fleet backup src` on a pseudo-terminal (so the progress bar draws) and, once its progress
 * line shows `afterBytes` moved, kills one process of the stream in the guest: the source's ssh,
 * or the peer's zfs recv. Waiting on bytes, not seconds: under TCG the ssh login alone can take
 * seconds, and a stream cut before its first byte leaves no resume token.
 */
async function backupCutMidStream(kill: { pattern: string; signal: string }, afterBytes = 8_000_000): Promise<{ exitCode: number; output: string }> {
  const running = execa('script', ['-qefc', `node ${FLEET_BIN} --config ${config} backup src`, '/dev/null'], { reject: false, stdin: 'ignore', env: { FLEET_CONFIG: '', COLUMNS: '200' } });
  // Logged in before the stream starts: a new ssh login to the guest takes seconds under TCG, long enough for the stream to end.
  const killer = vm().spawn(`read go && pkill -e -${kill.signal} -f ${shellQuote(kill.pattern)} || { ps -eo pid,args | grep -E 'zfs|ssh|pv'; exit 1; }`);
  let output = '';
  running.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const started = Date.now();
  while (movedBytes(output) < afterBytes) {
    if (running.exitCode !== null || Date.now() - started > 240_000) {
      killer.kill();
      throw new Error(`the stream never reached ${afterBytes} bytes:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  killer.stdin.end('go\n');
  const killed = await killer;
  expect(killed.exitCode, `no process matched ${kill.pattern}:\n${killed.stdout}\n${output}`).toBe(0);
  const result = await running;
  return { exitCode: result.exitCode ?? -1, output };
}

/** The most bytes a progress line has shown so far (`12.0 MB  3.0 MB/s`). */
function movedBytes(output: string): number {
  const units: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 };
  let most = 0;
  for (const match of output.matchAll(/(\d+(?:\.\d+)?) (B|kB|MB|GB) {2}\d+(?:\.\d+)? (?:B|kB|MB|GB)\/s/g)) most = Math.max(most, Number(match[1]) * units[match[2]!]!);
  return most;
}

/** `zfs send -nP ARGV` in the guest: the size of that stream in bytes. */
async function sendEstimate(argv: string[]): Promise<number> {
  const size = parseSendEstimate((await vm().exec(['zfs', 'send', '-n', '-P', ...argv])).stdout);
  expect(size).toBeGreaterThan(0);
  return size!;
}

async function expectSameCopy(): Promise<void> {
  expect([...(await snapshotGuids(copy)).values()]).toEqual([...(await snapshotGuids(dataset)).values()]);
  const guest = vm();
  await guest.sh(`mkdir -p /mnt/resume && mount -t zfs -o ro,zfsutil ${copy} /mnt/resume`);
  try {
    expect(await fileHashes('/mnt/resume')).toEqual(await fileHashes(`/${dataset}`));
  } finally {
    await guest.sh('umount /mnt/resume');
  }
}

describe('scenario 4: an interrupted transfer resumes where it broke', () => {
  let firstSnapshot: string;

  it("cutting the source's ssh mid-stream leaves a resume token, and the error names the side and the signal", async () => {
    // KILL, not TERM: ssh catches TERM and exits 255, which is what a dropped link looks like too.
    const cut = await backupCutMidStream({ pattern: SOURCE_SSH, signal: 'KILL' });
    expect(cut.exitCode, cut.output).toBe(1);
    expect(cut.output).toContain('killed by SIGKILL on the source');
    expect(cut.output).toContain('the next run resumes it');
    // The progress bar drew with an ETA while the stream ran (send -nP estimate).
    expect(cut.output).toMatch(/\[#*-*\]\s+\d+%.*ETA \d+:\d\d/);
    expect(await getProp(copy, 'receive_resume_token')).toMatch(/^[0-9a-f]+-/);
    firstSnapshot = [...(await snapshotGuids(dataset)).keys()].at(-1)!.split('@')[1]!;
    // The snapshot being sent is held at once, so no pruner can strand the partial state.
    expect(await holds(dataset)).toEqual([`${dataset}@${firstSnapshot}\tzfs-fleet:bak`]);
  });

  it('fleet plan says resume, naming the snapshot', async () => {
    const plan = await runFleet(config, ['plan', 'src', '--no-snapshot', '--json']);
    expect(plan.exitCode, plan.stdout).toBe(0);
    expect(plan.json.units[0].steps[0]).toMatchObject({ action: 'resume', to: firstSnapshot });
    const text = await runFleet(config, ['plan', 'src', '--no-snapshot']);
    expect(text.stdout).toContain(`resume interrupted receive of @${firstSnapshot}`);
  });

  it('the next backup sends less than a full stream, ends byte-identical, and holds the base', async () => {
    const run = await runFleet(config, ['backup', 'src', '--no-snapshot', '--json']);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    const [step] = run.json.units[0].steps;
    expect(step).toMatchObject({ action: 'resume', to: firstSnapshot });
    // What the peer had kept is not sent again: well under the whole stream (zfs send -nP of the snapshot).
    const whole = await sendEstimate(['-p', `${dataset}@${firstSnapshot}`]);
    expect(step.bytes).toBeGreaterThan(1_000_000);
    expect(step.bytes).toBeLessThan(whole - 3_000_000);
    expect(await getProp(copy, 'receive_resume_token')).toBe('-');
    await expectSameCopy();
    expect(await holds(dataset)).toEqual([`${dataset}@${firstSnapshot}\tzfs-fleet:bak`]);
  });

  it('an interrupted incremental (its zfs recv killed on the peer) resumes and moves the hold off the old base', async () => {
    await writeRandom(`/${dataset}/more.bin`, 12);
    const cut = await backupCutMidStream({ pattern: '^zfs recv .*backup/fleet/src', signal: 'KILL' }, 5_000_000);
    expect(cut.exitCode, cut.output).toBe(1);
    expect(cut.output).toMatch(/peer "bak"/);
    expect(await getProp(copy, 'receive_resume_token')).toMatch(/^[0-9a-f]+-/);
    const second = [...(await snapshotGuids(dataset)).keys()].at(-1)!.split('@')[1]!;
    const plan = await runFleet(config, ['plan', 'src', '--no-snapshot', '--json']);
    expect(plan.json.units[0].steps[0]).toMatchObject({ action: 'resume', from: firstSnapshot, to: second });
    const run = await runFleet(config, ['backup', 'src', '--no-snapshot', '--json']);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.json.units[0].steps[0].bytes).toBeLessThan((await sendEstimate(['-i', `@${firstSnapshot}`, `${dataset}@${second}`])) - 2_000_000);
    await expectSameCopy();
    expect(await holds(dataset)).toEqual([`${dataset}@${second}\tzfs-fleet:bak`]);
  });

  it('#17: a token whose snapshot was destroyed on the source is aborted (zfs recv -A), said, and the normal incremental runs', async () => {
    await writeRandom(`/${dataset}/stale.bin`, 12);
    // Early in the 12 MiB stream: pv catches up after a stall in bursts of 8 MB/s (seen), so 8 MB would be too late.
    const cut = await backupCutMidStream({ pattern: SOURCE_SSH, signal: 'KILL' }, 3_000_000);
    expect(cut.exitCode, cut.output).toBe(1);
    const token = await getProp(copy, 'receive_resume_token');
    expect(token, cut.output).toMatch(/^[0-9a-f]+-/);
    const doomed = [...(await snapshotGuids(dataset)).keys()].at(-1)!;
    // The hold placed when the stream broke protects it: destroying it takes a release first.
    const refused = await vm().exec(['zfs', 'destroy', doomed], { reject: false });
    expect(refused.exitCode).not.toBe(0);
    await vm().exec(['zfs', 'release', 'zfs-fleet:bak', doomed]);
    await vm().exec(['zfs', 'destroy', doomed]);
    await vm().exec(['zfs', 'snapshot', `${dataset}@after-prune`]);

    const plan = await runFleet(config, ['plan', 'src', '--no-snapshot', '--json']);
    expect(plan.exitCode, plan.stdout).toBe(0);
    const [step] = plan.json.units[0].steps;
    expect(step).toMatchObject({ action: 'incremental', to: 'after-prune', abortsPartialReceive: doomed.split('@')[1] });
    expect(step.warnings.join('\n')).toContain(`@${doomed.split('@')[1]} no longer exists on the source`);
    const text = await runFleet(config, ['plan', 'src', '--no-snapshot']);
    expect(text.stdout).toContain('zfs recv -A');

    const run = await runFleet(config, ['backup', 'src', '--no-snapshot', '--json']);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.json.units[0].steps[0]).toMatchObject({ action: 'incremental', to: 'after-prune' });
    expect(await getProp(copy, 'receive_resume_token')).toBe('-');
    await expectSameCopy();
    expect(await holds(dataset)).toEqual([`${dataset}@after-prune\tzfs-fleet:bak`]);
  });
});
