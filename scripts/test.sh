#!/usr/bin/env bash
# Sets up and runs every test: lint (Biome: format and rules), typecheck, unit tests, and the
# end-to-end suite on the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PATH="$(cat .tools/path)"
npm run lint --silent
npx turbo run typecheck --output-logs=errors-only
npx vitest run --project unit
npx vitest run --project e2e
bash test/lab/lab.sh check-clean .lab/e2e src1 src2 backup1 backup2
