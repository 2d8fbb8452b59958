// Bundles one entry point into a single self-contained ESM file: the agent ships to hosts
// as one file, and the CLI starts without resolving hundreds of modules.
import { build } from 'esbuild';

const [entry, outfile, target = 'node20'] = process.argv.slice(2);
if (!entry || !outfile) throw new Error('usage: bundle.mjs ENTRY OUTFILE [TARGET]');

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target,
  sourcemap: 'linked',
  // ssh2's optional native helpers: it falls back to pure JS without them.
  external: ['cpu-features', './crypto/build/Release/sshcrypto.node'],
  banner: {
    // Bundled CommonJS dependencies (ssh2, pino) still call require().
    js: "#!/usr/bin/env node\nimport { createRequire as __fleetCreateRequire } from 'node:module'; const require = __fleetCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
