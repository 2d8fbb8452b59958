import { expect, test } from 'vitest';
import { cleanUpPeer, createDatasets, hashFile, lab, runFleet, snapshotGuids, uniqueName, writeFleetConfig, writeRandomFile } from './support/fleet.ts';

test('files under Movies/Marvel arrive byte-identical, and the second run is incremental with matching guids', async () => {
  const media = `tank/${uniqueName('Media')}`;
  const marvel = `${media}/Movies/Marvel`;
  await createDatasets('src1', [media, `${media}/Movies`, marvel]);
  cleanUpPeer('backup1', `backup/fleet/src1/${media}`);
  await writeRandomFile('src1', marvel, 'ironman.bin', 3_000_000);
  const config = await writeFleetConfig({ src1: [{ dataset: media, recursive: true, to: ['backup1'] }] });

  const first = await runFleet(config, ['backup', 'src1', '--json']);
  expect(first.exitCode, first.stderr).toBe(0);
  expect(first.json.units[0].steps.map((s: { action: string }) => s.action)).toEqual(['full']);

  const copy = `backup/fleet/src1/${marvel}`;
  expect(await hashFile('backup1', copy, 'ironman.bin')).toBe(await hashFile('src1', marvel, 'ironman.bin'));

  await writeRandomFile('src1', marvel, 'thor.bin', 1_000_000);
  const second = await runFleet(config, ['backup', 'src1', '--json']);
  expect(second.exitCode, second.stderr).toBe(0);
  const steps = second.json.units[0].steps;
  expect(steps.every((s: { action: string }) => s.action === 'incremental')).toBe(true);
  expect(steps[0].from).toBe(first.json.hosts.find((h: { host: string }) => h.host === 'src1').snapshot);

  expect(await hashFile('backup1', copy, 'thor.bin')).toBe(await hashFile('src1', marvel, 'thor.bin'));
  const sourceGuids = await snapshotGuids('src1', marvel);
  const peerGuids = await snapshotGuids('backup1', copy);
  expect(sourceGuids.size).toBe(2);
  expect(peerGuids).toEqual(sourceGuids);
});

test('a second source host backs up into the same peer without touching the first one', async () => {
  const name = uniqueName('Shared');
  await createDatasets('src1', [`tank/${name}`]);
  await createDatasets('src2', [`tank/${name}`]);
  cleanUpPeer('backup1', `backup/fleet/src1/tank/${name}`);
  cleanUpPeer('backup1', `backup/fleet/src2/tank/${name}`);
  await writeRandomFile('src1', `tank/${name}`, 'a.bin', 200_000);
  await writeRandomFile('src2', `tank/${name}`, 'a.bin', 200_000);
  const config = await writeFleetConfig({
    src1: [{ dataset: `tank/${name}`, to: ['backup1'] }],
    src2: [{ dataset: `tank/${name}`, to: ['backup1'] }],
  });

  expect((await runFleet(config, ['backup', 'src1'])).exitCode).toBe(0);
  const before = await snapshotGuids('backup1', `backup/fleet/src1/tank/${name}`);
  const result = await runFleet(config, ['backup', 'src2', '--json']);
  expect(result.exitCode, result.stderr).toBe(0);

  expect(await snapshotGuids('backup1', `backup/fleet/src1/tank/${name}`)).toEqual(before);
  expect(await hashFile('backup1', `backup/fleet/src1/tank/${name}`, 'a.bin')).toBe(await hashFile('src1', `tank/${name}`, 'a.bin'));
  expect(await hashFile('backup1', `backup/fleet/src2/tank/${name}`, 'a.bin')).toBe(await hashFile('src2', `tank/${name}`, 'a.bin'));
});

test.each([
  ['an unknown key', { dataset: 'tank/x', to: ['backup1'], recursiv: true }, 'hosts.src1.backups.0: unknown key "recursiv"'],
  ['a dataset with ".."', { dataset: 'tank/../x', to: ['backup1'] }, 'hosts.src1.backups.0.dataset: dataset name "tank/../x"'],
  ['a dataset with ";"', { dataset: 'tank;rm', to: ['backup1'] }, 'hosts.src1.backups.0.dataset: dataset name "tank;rm"'],
  ['a peer that is no host', { dataset: 'tank/x', to: ['nowhere'] }, 'hosts.src1.backups.0.to.0: "nowhere" is neither a host nor a target in this config'],
])('a config with %s is refused with its key path and nothing runs', async (_name, entry, expected) => {
  const before = await lab().zfs('src1', ['list', '-H', '-t', 'snapshot', '-o', 'name']);
  const config = await writeFleetConfig({ src1: [entry as never] });
  const result = await runFleet(config, ['backup', '--all']);
  expect(result.exitCode).toBe(2);
  expect(result.stderr).toContain(expected);
  expect(await lab().zfs('src1', ['list', '-H', '-t', 'snapshot', '-o', 'name'])).toBe(before);
});

test('the agent writes nothing but protocol frames on stdout, each the answer to its call', async () => {
  const { agent } = lab().config();
  const requests = [
    { id: 1, method: 'query', params: { path: 'hello', input: { controllerVersion: '0.1.0' } } },
    { id: 2, method: 'query', params: { path: 'listTree', input: { roots: ['tank'] } } },
    { id: 3, method: 'query', params: { path: 'listTree', input: { roots: ['tank/does-not-exist'] } } },
    { id: 4, method: 'query', params: { path: 'noSuchProcedure', input: {} } },
  ];
  const { stdout } = await lab().exec('src1', [...agent.command.split(' '), 'serve', '--stdio'], { input: `${requests.map((r) => JSON.stringify(r)).join('\n')}\n` });
  const lines = stdout.split('\n').filter((line) => line !== '');
  expect(lines.length).toBe(requests.length);
  const frames = new Map(lines.map((line) => JSON.parse(line)).map((frame) => [frame.id, frame]));
  expect(frames.get(1)).toMatchObject({ result: { type: 'data', data: { agentVersion: '0.1.0', hostname: 'src1', zfs: { implementation: 'zfs-fuse' } } } });
  expect(frames.get(2)).toMatchObject({ result: { type: 'data', data: { missingRoots: [], tree: { datasets: expect.arrayContaining([expect.objectContaining({ name: 'tank', type: 'filesystem' })]) } } } });
  expect(frames.get(3)).toMatchObject({ result: { type: 'data', data: { tree: { datasets: [] }, missingRoots: ['tank/does-not-exist'] } } });
  expect(frames.get(4)).toMatchObject({ error: { data: { code: 'NOT_FOUND', fleet: { code: 'INTERNAL' } } } });
  expect(frames.get(4)).not.toHaveProperty('result');
});
