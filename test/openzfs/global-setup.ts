import { existsSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { ensureOpenZfsImage, labDown, labUp, openLab, openVm, vmDown, vmUp } from '@zfs-fleet/lab';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The zfs-fuse host of this suite: its own name and address, so it never meets the e2e lab's. */
export const FUSE_HOST = { name: 'oz-fuse13', address: '10.77.13.11', pool: 'tank' };
export const VM_PORT = Number(process.env['OPENZFS_SSH_PORT'] ?? 2213);

/**
 * One OpenZFS 2.3 guest stands for two hosts (pools `tank` and `backup`), next to one zfs-fuse
 * lab host. The zfs-fuse host comes up first: it brings the lab bridge, whose address the
 * guest's sshd is then forwarded on too, so the zfs-fuse host reaches the guest.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fuseDir = path.join(REPO, '.lab/openzfs-fuse');
  const vmDir = path.join(REPO, '.lab/openzfs-vm');
  const timings: Record<string, number> = {};
  let started = performance.now();
  const image = await ensureOpenZfsImage();
  timings['imageSeconds'] = (performance.now() - started) / 1000;
  // OPENZFS_REUSE=1 (with OPENZFS_KEEP=1 on the run before): the guest and the zfs-fuse host that run left up, as they are.
  if (process.env['OPENZFS_REUSE'] && (await isReusable(vmDir, fuseDir))) {
    project.provide('openzfs', { vmDir, fuseDir, image, timings: { ...timings, bootSeconds: 0 } });
    return async () => undefined;
  }

  const fuse = await labUp({ hosts: [`${FUSE_HOST.name}:${FUSE_HOST.address}:${FUSE_HOST.pool}`], dir: fuseDir });
  started = performance.now();
  const vm = await vmUp({ dir: vmDir, port: VM_PORT, image });
  timings['bootSeconds'] = (performance.now() - started) / 1000;

  // The controller logs in with the zfs-fuse lab's key; the zfs-fuse host's root streams to the guest.
  const controllerKey = await readFile(path.join(fuse.dir, 'keys/fleet.pub'), 'utf8');
  const fuseRootKey = await readFile(path.join(fuse.dir, 'hosts', FUSE_HOST.name, 'root/.ssh/id_ed25519.pub'), 'utf8');
  await vm.exec(['sh', '-c', 'cat >> /root/.ssh/authorized_keys'], { input: `${controllerKey.trim()}\n${fuseRootKey.trim()}\n` });
  if (vm.bridgeAddress) {
    await appendFile(path.join(fuse.dir, 'hosts', FUSE_HOST.name, 'root/.ssh/known_hosts'), `[${vm.bridgeAddress}]:${vm.port} ${vm.hostKey}\n`);
  }
  // The guest's root reaches the zfs-fuse host (guest → slirp → the machine → the lab bridge).
  const fuseHostKey = (await readFile(path.join(fuse.dir, 'hosts', FUSE_HOST.name, 'ssh_host_ed25519_key.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
  await vm.exec(['sh', '-c', 'cat >> /root/.ssh/known_hosts'], { input: `${FUSE_HOST.address} ${fuseHostKey}\n` });
  await openLab(fuse.dir).exec(FUSE_HOST.name, ['sh', '-c', 'cat >> /root/.ssh/authorized_keys'], { input: `${(await readFile(vm.keyFile + '.pub', 'utf8')).trim()}\n` });

  // Two file-backed pools: `tank` for the source, `backup` for the peer.
  await vm.sh('set -e; for p in tank backup; do truncate -s 3G /var/tmp/$p.img; zpool create -f -o ashift=12 -O mountpoint=/$p $p /var/tmp/$p.img; done; zfs version');

  project.provide('openzfs', { vmDir: vm.dir, fuseDir: fuse.dir, image, timings });
  return async () => {
    if (process.env['OPENZFS_KEEP']) return;
    await vmDown(vmDir);
    await labDown(fuseDir);
  };
}

async function isReusable(vmDir: string, fuseDir: string): Promise<boolean> {
  if (!existsSync(path.join(vmDir, 'vm.json')) || !existsSync(path.join(fuseDir, 'lab.json'))) return false;
  const answer = await openVm(vmDir).exec(['zpool', 'list', '-H', '-o', 'name'], { reject: false, timeoutMs: 20_000 });
  return answer.exitCode === 0 && answer.stdout.includes('backup');
}

declare module 'vitest' {
  export interface ProvidedContext {
    openzfs: { vmDir: string; fuseDir: string; image: string; timings: Record<string, number> };
  }
}

export { openVm };
