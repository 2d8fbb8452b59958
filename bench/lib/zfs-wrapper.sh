#!/bin/bash
# zfs wrapper for the bench hosts only (installed by bench/run.mjs as /opt/zfs-fleet/bench/bin/zfs,
# first on PATH of those hosts' ssh sessions). It does two things and nothing else:
#  1. appends one line per invocation to /opt/zfs-fleet/bench/zfs-calls.log (the counts of scenario 3);
#  2. emulates `zfs get -t TYPES`, which zfs-fuse lacks and syncoid 2.1.0 needs: the option is
#     dropped and the output filtered by type (a name with '@' is a snapshot).
# Every other call is an exec of the real zfs, so streams and exit codes pass through untouched.
REAL_ZFS=@REAL_ZFS@
LOG=/opt/zfs-fleet/bench/zfs-calls.log
printf '%s %s\n' "$PPID" "$*" >> "$LOG" 2>/dev/null

[ "${1:-}" = get ] || exec "$REAL_ZFS" "$@"
types=""
args=()
while [ $# -gt 0 ]; do
  case $1 in
    -t) types=$2; shift 2 ;;
    -t*) types=${1#-t}; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
[ -n "$types" ] || exec "$REAL_ZFS" "${args[@]}"

want_snap=0 want_fs=0
IFS=, read -ra list <<<"$types"
for t in "${list[@]}"; do
  case $t in
    snapshot|snap) want_snap=1 ;;
    filesystem|volume) want_fs=1 ;;
    all) want_snap=1; want_fs=1 ;;
  esac
done
out=$("$REAL_ZFS" "${args[@]}") || exit $?
[ -n "$out" ] || exit 0
printf '%s\n' "$out" | while IFS= read -r line; do
  name=${line%%$'\t'*}
  case $name in
    *@*) [ $want_snap = 1 ] && printf '%s\n' "$line" ;;
    *) [ $want_fs = 1 ] && printf '%s\n' "$line" ;;
  esac
done
exit 0
