#!/usr/bin/env node
// The workspace's `fleet-agent` command: npm links this file at install time, before any build, so
// `npx fleet-agent` works in the checkout once `npm run build` has written the bundle it loads.
try {
  await import('../dist/fleet-agent.mjs');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/fleet-agent.mjs')) throw error;
  process.stderr.write('fleet-agent: the agent is not built yet; run `npm run build` in the checkout first.\n');
  process.exitCode = 70;
}
