import type { TestProject } from 'vitest/node';
import { labDown, labUp } from '@zfs-fleet/lab';

/** Hosts of the e2e lab: two sources and two peers, each with its own zfs-fuse and sshd. */
export const E2E_HOSTS = ['src1:10.77.0.11:tank', 'src2:10.77.0.12:tank', 'backup1:10.77.0.21:backup', 'backup2:10.77.0.22:backup'];

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const lab = await labUp({ hosts: E2E_HOSTS });
  project.provide('labDir', lab.dir);
  return async () => {
    await labDown(lab.dir);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    labDir: string;
  }
}
