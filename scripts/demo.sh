#!/usr/bin/env bash
# The quick start: set up, bring up the demo lab (2 source hosts, 1 backup host), back the
# fleet up twice (full, then incremental after new writes), and tear the lab down.
# KEEP_LAB=1 leaves the lab running to explore (see the README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PATH="$(cat .tools/path)"
lab="bash test/lab/lab.sh"
dir=.lab/demo
fleet() { node packages/controller/dist/fleet.mjs --config "$dir/fleet.yaml" "$@"; }
title() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "${KEEP_LAB:-0}" != 1 ]; then trap '$lab down "$dir" >/dev/null 2>&1 || true' EXIT; fi
$lab down "$dir" >/dev/null 2>&1 || true
$lab up "$dir" src1:10.77.0.11:tank src2:10.77.0.12:tank backup1:10.77.0.21:backup
$lab seed-demo "$dir"

title "the fleet ($dir/fleet.yaml)"
cat "$dir/fleet.yaml"

title "fleet plan --all"
fleet plan --all

title "fleet backup --all   (first run: full streams)"
fleet backup --all

title "new data on both sources"
for host in src1 src2; do
  $lab exec "$dir" "$host" sh -c 'head -c 4000000 /dev/urandom > "$(zfs get -H -o value mountpoint tank/Media/Movies/Marvel)/new-release.mkv" && echo "$(hostname): wrote 4 MB to tank/Media/Movies/Marvel/new-release.mkv"'
done

title "fleet backup --all   (second run: incremental streams)"
fleet backup --all

title "what backup1 holds"
$lab exec "$dir" backup1 zfs list -r -t all -o name,used,refer backup/fleet
if [ "${KEEP_LAB:-0}" = 1 ]; then
  echo; echo "The lab is still up. Try:  node packages/controller/dist/fleet.mjs --config $dir/fleet.yaml plan --all"
  echo "Tear it down with:          bash test/lab/lab.sh down $dir"
fi
