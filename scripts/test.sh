#!/usr/bin/env bash
# Sets up and runs every test: lint (Biome), typecheck, unit and browser tests, the release packages, the
# end-to-end suite on the zfs-fuse lab (installing those packages too), and the OpenZFS 2.x
# suite on a qemu VM (test/openzfs; see README "Tests on real OpenZFS").
#   OPENZFS_SUITE=never   (default: on 2 cores the suite alone takes ~47 min, over CI's 45) skip the OpenZFS suite
#   OPENZFS_SUITE=cached  run it only when the VM image is already built
#   OPENZFS_SUITE=always  build the image when it is missing (~18 min on 2 busy cores)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PATH="$(cat .tools/path)"
openzfs=${OPENZFS_SUITE:-never}

# The image builds in the background while the zfs-fuse suites run; it is cached afterwards.
image_pid=
if [ "$openzfs" = always ]; then
  mkdir -p .lab
  bash test/lab/openzfs/build-image.sh > .lab/openzfs-image.log 2>&1 &
  image_pid=$!
fi

npm run lint
npx turbo run typecheck --output-logs=errors-only
npx vitest run --project unit
npx vitest run --project browser
# Export storage backends against real servers on loopback (radosgw, rclone serve sftp): about a minute.
npx vitest run --project integration
# The release packages (npm tarball, .debs): test/e2e/install.test.ts installs them on the lab.
bash scripts/package.sh
npx vitest run --project e2e
bash test/lab/lab.sh check-clean .lab/e2e src1 src2 backup1 backup2

if [ -n "$image_pid" ]; then
  wait "$image_pid" || { cat .lab/openzfs-image.log >&2; echo "test.sh: building the OpenZFS image failed" >&2; exit 1; }
elif [ "$openzfs" = cached ] && bash test/lab/openzfs/build-image.sh --cached >/dev/null 2>&1; then
  openzfs=always
fi
if [ "$openzfs" = always ]; then
  npx vitest run --project openzfs
  bash test/lab/lab.sh check-clean .lab/openzfs-fuse oz-fuse13
else
  echo "test.sh: OpenZFS suite skipped (OPENZFS_SUITE=$openzfs)" >&2
fi
