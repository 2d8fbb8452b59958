import { expect, test } from 'vitest';
import { parse, stringify } from 'yaml';
import { readFile, writeFile } from 'node:fs/promises';
import { cleanUpPeer, createDatasets, hashFile, lab, runFleet, snapshotGuids, uniqueName, writeFleetConfig, writeRandomFile } from './support/fleet.ts';

async function pacedConfig(dataset: string, bytesPerSecond: number): Promise<string> {
  const file = await writeFleetConfig({ src1: [{ dataset, to: ['backup1'] }] });
  const config = parse(await readFile(file, 'utf8'));
  config.wire = { compression: 'none', bandwidthLimitBytesPerSecond: bytesPerSecond };
  await writeFile(file, stringify(config));
  return file;
}

test('a connection broken mid-stream fails that unit with a clear error, loses nothing, and the next run completes', async () => {
  const dataset = `tank/${uniqueName('B')}`;
  await createDatasets('src1', [dataset]);
  const copy = `backup/fleet/src1/${dataset}`;
  cleanUpPeer('backup1', copy);
  await writeRandomFile('src1', dataset, 'big.bin', 4_000_000);
  const slow = await pacedConfig(dataset, 1_000_000);

  const running = runFleet(slow, ['backup', 'src1', '--json']);
  // Once the stream is flowing, cut it on the receiving side. Lab hosts share one pid
  // namespace: kill only the receive in backup1's network namespace. A busy machine may take
  // a while to get there: wait for the receive rather than for a fixed time.
  // `rec[v]`: the pattern must not match the shell that runs pgrep itself.
  const receiving = 'pgrep --ns $$ --nslist net -f "zfs rec[v]" >/dev/null';
  for (let waited = 0; (await lab().exec('backup1', ['sh', '-c', receiving], { reject: false })).exitCode !== 0; waited += 100) {
    if (waited > 60_000) throw new Error('no zfs recv started on backup1 within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  await lab().exec('backup1', ['sh', '-c', 'pkill -KILL --ns $$ --nslist net -f "zfs rec[v]"'], { reject: false });
  const broken = await running;
  expect(broken.exitCode).toBe(1);
  const unit = broken.json.units[0];
  expect(unit.status).toBe('failed');
  expect(unit.error.code).toBe('STREAM_FAILED');
  expect(unit.error.message).toContain(dataset);
  // The source is untouched and the peer holds no half-received dataset.
  expect((await snapshotGuids('src1', dataset)).size).toBe(1);
  expect((await lab().exec('backup1', ['zfs', 'list', copy], { reject: false })).exitCode).not.toBe(0);

  const retry = await runFleet(await writeFleetConfig({ src1: [{ dataset, to: ['backup1'] }] }), ['backup', 'src1', '--json']);
  expect(retry.exitCode, retry.stderr).toBe(0);
  expect(await hashFile('backup1', copy, 'big.bin')).toBe(await hashFile('src1', dataset, 'big.bin'));
});

test('a full peer is reported as POOL_FULL, and nothing else is touched', async () => {
  const dataset = `tank/${uniqueName('Q')}`;
  await createDatasets('src1', [dataset]);
  const hostRoot = `backup/quota-${uniqueName('q')}`;
  await lab().zfs('backup1', ['create', '-p', `${hostRoot}/src1`]);
  await lab().zfs('backup1', ['set', 'quota=1M', hostRoot]);
  cleanUpPeer('backup1', hostRoot);
  await writeRandomFile('src1', dataset, 'big.bin', 3_000_000);
  const config = await writeFleetConfig({ src1: [{ dataset, to: ['backup1'] }] }, { receiveRoot: hostRoot.slice('backup/'.length) });

  const result = await runFleet(config, ['backup', 'src1', '--json']);
  expect(result.exitCode).toBe(1);
  expect(result.json.units[0]).toMatchObject({ status: 'failed', error: { code: 'POOL_FULL' } });
  expect(result.json.units[0].error.hint).toContain('Free space');
  expect((await snapshotGuids('src1', dataset)).size).toBe(1);
});
