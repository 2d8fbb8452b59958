// Bundles one entry point into a single self-contained ESM file: the agent ships to hosts
// as one file, and the CLI starts without resolving hundreds of modules.
import path from 'node:path';
import { build } from 'esbuild';

/**
 * zod's locales are a quarter of a bundle (358 KiB of the agent's 1.3 MiB), parsed at every
 * start of an agent on Node.js 18, which has no compile cache; our messages are English, so
 * `z.locales` keeps only `en` (the locale zod configures by default).
 */
const englishZodOnly = {
  name: 'english-zod-only',
  setup(bundle) {
    bundle.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => (args.importer.includes(`${path.sep}zod${path.sep}`) ? { path: path.join(path.dirname(args.importer), '../locales/en.js'), namespace: 'english-zod-only' } : undefined));
    bundle.onLoad({ filter: /.*/, namespace: 'english-zod-only' }, (args) => ({ contents: `export { default as en } from ${JSON.stringify(args.path)};`, resolveDir: path.dirname(args.path) }));
  },
};

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
    // Bundled CommonJS dependencies (ssh2, pino) still call require() and read __dirname.
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __fleetCreateRequire } from 'node:module';",
      "import { dirname as __fleetDirname } from 'node:path';",
      "import { fileURLToPath as __fleetFileURLToPath } from 'node:url';",
      'const require = __fleetCreateRequire(import.meta.url);',
      'const __filename = __fleetFileURLToPath(import.meta.url);',
      'const __dirname = __fleetDirname(__filename);',
    ].join('\n'),
  },
  plugins: [englishZodOnly],
  logLevel: 'warning',
});
