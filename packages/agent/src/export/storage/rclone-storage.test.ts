import { expect, test } from 'vitest';
import { rcloneEnvironment } from './rclone-storage.ts';

test.each([
  ['AWS_CA_BUNDLE is removed, the rest kept', { PATH: '/usr/bin', AWS_CA_BUNDLE: '/etc/ssl/ca.pem' }, undefined, { PATH: '/usr/bin' }],
  ['a target config path becomes RCLONE_CONFIG', { PATH: '/usr/bin', RCLONE_CONFIG: '/root/.config/rclone/rclone.conf' }, '/etc/zfs-fleet/rclone.conf', { PATH: '/usr/bin', RCLONE_CONFIG: '/etc/zfs-fleet/rclone.conf' }],
  ['without one the host config stays', { HOME: '/root' }, undefined, { HOME: '/root' }],
])('rcloneEnvironment: %s', (_title, base, rcloneConfig, expected) => {
  expect(rcloneEnvironment(base, rcloneConfig)).toEqual(expected);
});
