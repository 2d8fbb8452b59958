#!/usr/bin/env bash
# npm run test:openzfs: the OpenZFS 2.x suite. Builds the VM image first when it is missing
# (test/lab/openzfs/build-image.sh; about 18 minutes on 2 busy cores, cached afterwards).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f .tools/path ] && [ -f packages/controller/dist/fleet.mjs ] || bash scripts/setup.sh
PATH="$(cat .tools/path)"
bash test/lab/openzfs/build-image.sh >/dev/null
exec npx vitest run --project openzfs "$@"
