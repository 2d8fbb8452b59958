import { beforeAll, expect, it } from 'vitest';
import { runFleet, snapshotGuids, uniqueName, vm, writeConfig } from './support.ts';

// Issue #11 acceptance 3, which zfs-fuse cannot show (its destroy takes one name per call).
const COUNTER_DIR = '/var/tmp/zfs-count';
const COUNTER_LOG = `${COUNTER_DIR}/calls.log`;
const KEPT = 'fleet-20300301T000000.000Z';

beforeAll(async () => {
  // A `zfs` first on the PATH of src's agent logs each call's verb, then runs the real zfs: the count does not trust the agent.
  await vm().sh(`set -e; mkdir -p ${COUNTER_DIR}; printf '#!/bin/sh\\nprintf "%%s\\\\n" "$1" >> ${COUNTER_LOG}\\nexec %s "$@"\\n' "$(command -v zfs)" > ${COUNTER_DIR}/zfs; chmod 755 ${COUNTER_DIR}/zfs; ${COUNTER_DIR}/zfs version >/dev/null; : > ${COUNTER_LOG}`);
  const install = await runFleet(await writeConfig({}), ['agent', 'install', 'src']);
  expect(install.exitCode, install.stdout + install.stderr).toBe(0);
});

/** Takes `count` old fleet snapshots, a new one and a foreign one; prunes to `daily: 1`; returns src's zfs calls by verb. */
async function pruneCounted(count: number): Promise<{ verbs: string[]; dataset: string; reported: number }> {
  const dataset = `tank/${uniqueName('prune')}`;
  await vm().zfs(['create', dataset]);
  const old = Array.from({ length: count }, (_, i) => `fleet-20290101T${String(Math.floor(i / 60)).padStart(2, '0')}${String(i % 60).padStart(2, '0')}00.000Z`);
  // OpenZFS takes one snapshot of a dataset per call (and per txg, so a channel program does not help): about 0.5 s each under TCG.
  await vm().sh(`for name in ${old.join(' ')}; do zfs snapshot "${dataset}@$name" || exit 1; done`, { timeoutMs: 600_000 });
  await vm().zfs(['snapshot', `${dataset}@manual-keep-me`]);
  await vm().zfs(['snapshot', `${dataset}@${KEPT}`]);
  const config = await writeConfig({ src: [{ dataset, to: ['bak'], keep: { daily: 1 } }] }, { agentCommands: { src: `env PATH=${COUNTER_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /opt/zfs-fleet/bin/fleet-agent` } });
  await vm().sh(`: > ${COUNTER_LOG}`);
  const run = await runFleet(config, ['prune', 'src', '--json', '--now', '2030-03-01T12:00:00Z']);
  expect(run.exitCode, run.stdout + run.stderr).toBe(0);
  expect(run.json.units.find((unit: { on: string }) => unit.on === 'src')).toMatchObject({ status: 'ok', destroyed: count });
  const verbs = (await vm().sh(`cat ${COUNTER_LOG}`)).stdout.split('\n').filter(Boolean);
  return { verbs, dataset, reported: run.json.hosts.find((host: { host: string }) => host.host === 'src').pruneZfsCalls };
}

it('#11: pruning 200 snapshots costs src exactly the zfs calls of pruning 2 (one comma-list destroy per dataset), and destroys exactly the old ones', async () => {
  const two = await pruneCounted(2);
  const many = await pruneCounted(200);
  expect(many.verbs.filter((verb) => verb === 'destroy')).toEqual(['destroy']);
  expect(many.verbs.length, `2: ${two.verbs.join(' ')}\n200: ${many.verbs.join(' ')}`).toBe(two.verbs.length);
  expect(many.verbs).toEqual(two.verbs);
  // The agent's own count of its prune call agrees, and does not grow either.
  expect(many.reported).toBe(two.reported);
  expect(many.reported).toBeGreaterThan(0);
  for (const { dataset } of [two, many]) expect([...(await snapshotGuids(dataset)).keys()].map((name) => name.split('@')[1]).sort()).toEqual([KEPT, 'manual-keep-me'].sort());
}, 900_000);
