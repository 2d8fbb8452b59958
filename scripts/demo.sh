#!/usr/bin/env bash
# The quick start: set up, bring up the demo lab (2 source hosts, 1 backup host), back the
# fleet up twice (full, then incremental after new writes), and tear the lab down.
# KEEP_LAB=1 leaves the lab running to explore (`test/lab/lab.sh exec src1 -- zfs list`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PATH="$(cat .tools/path)"
lab=test/lab/lab.sh
fleet() { node packages/controller/dist/fleet.mjs --config .lab/fleet.yaml "$@"; }

if [ "${KEEP_LAB:-0}" != 1 ]; then trap 'bash "$lab" down >/dev/null 2>&1 || true' EXIT; fi
bash "$lab" down >/dev/null 2>&1 || true
bash "$lab" up src1:10.77.0.11:tank src2:10.77.0.12:tank backup1:10.77.0.21:backup
bash "$lab" seed-demo

printf '\n\033[1m== fleet backup --all (first run: full streams)\033[0m\n'
fleet backup --all

for host in src1 src2; do
  bash "$lab" exec "$host" -- sh -c 'head -c 4000000 /dev/urandom > "$(zfs get -H -o value mountpoint tank/Media/Movies/Marvel)/new-release.bin"'
done
printf '\n\033[1m== fleet backup --all (second run: incremental streams)\033[0m\n'
fleet backup --all

printf '\n\033[1m== what backup1 holds\033[0m\n'
bash "$lab" exec backup1 -- zfs list -r -t all -o name,used,creation backup/fleet
