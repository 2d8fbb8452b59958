import { defineConfig } from 'vitest/config';

// Unit tests live next to the code, browser tests too (*.browser.test.ts, headless Chromium);
// e2e tests in test/e2e drive the zfs-fuse lab; test/openzfs drives a real OpenZFS 2.3 host
// (a qemu VM, see test/lab/openzfs/) next to a zfs-fuse one.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'test/lab/src/**/*.test.ts'],
          exclude: ['**/*.browser.test.ts', '**/*.integration.test.ts', '**/node_modules/**'],
          environment: 'node',
        },
      },
      {
        // Export storage backends against real servers on loopback: radosgw (test/lab/s3), rclone serve sftp.
        test: {
          name: 'integration',
          include: ['packages/*/src/**/*.integration.test.ts'],
          environment: 'node',
          globalSetup: ['test/lab/src/s3-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        // Pages the CLI writes, rendered by Debian's headless Chromium (setup.sh installs it).
        test: {
          name: 'browser',
          include: ['packages/*/src/**/*.browser.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'openzfs',
          include: ['test/openzfs/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/openzfs/global-setup.ts'],
          testTimeout: 600_000,
          // The first run builds the VM image (about 18 minutes on 2 busy cores).
          hookTimeout: 3_600_000,
          fileParallelism: false,
          pool: 'forks',
        },
      },
    ],
  },
});
