#!/usr/bin/env bash
# Smoke test of the lab itself: two hosts up, a full and an incremental `zfs send | ssh peer zfs recv`
# run inside smk1 with its replication key, content checked on smk2 after each (the stale-read
# trap), the controller's key and known_hosts from the root namespace, then down and nothing left.
#
#   smoke.sh [DIR]      DIR defaults to <repo>/.lab/smoke; uses 10.77.0.91-92 (clear of the e2e lab)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lab="$here/lab.sh"
dir=$(realpath -m "${1:-$here/../../.lab/smoke}")
src=smk1 dst=smk2 src_ip=10.77.0.91 dst_ip=10.77.0.92

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
step() { echo "smoke: $*" >&2; }
on() { bash "$lab" exec "$dir" "$@"; }
now() { echo "${EPOCHREALTIME/,/.}"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
torn_down=0
trap '[ $torn_down = 1 ] || LAB_QUIET=1 bash "$lab" down "$dir" || true' EXIT

started=$(now)
bash "$lab" down "$dir"
t0=$(now)
bash "$lab" up "$dir" "$src:$src_ip:tank" "$dst:$dst_ip:backup"
t1=$(now)
bash "$lab" status "$dir"

# Inside smk1, with its own key and known_hosts: the replication path of the walking skeleton.
ssh_peer="ssh -o BatchMode=yes -o StrictHostKeyChecking=yes $dst_ip"
[ "$(on $src sh -c "$ssh_peer hostname")" = $dst ] || fail "ssh from $src to $dst does not reach $dst"
on $src sh -c "$ssh_peer zfs list" >/dev/null || fail "zfs list over ssh from $src failed"

on $src zfs create tank/smoke
on $src sh -c 'head -c 3000000 /dev/urandom > /mnt/tank/smoke/data.bin'
want=$(on $src sha256sum /mnt/tank/smoke/data.bin | cut -d' ' -f1)
on $src zfs snapshot tank/smoke@one
on $src sh -c "zfs send tank/smoke@one | $ssh_peer zfs recv -d -F backup"
got=$(on $dst sh -c 'sha256sum "$(zfs get -H -o value mountpoint backup/smoke)/data.bin"' | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "full receive: sha256 on $dst is '$got', want '$want'"
step "full send/recv over ssh: content matches"

# Same file name, new size and content: a cached attribute or page on smk2 would show the old bytes.
on $src sh -c 'head -c 1234567 /dev/urandom > /mnt/tank/smoke/data.bin && echo second > /mnt/tank/smoke/new.txt'
want=$(on $src sha256sum /mnt/tank/smoke/data.bin | cut -d' ' -f1)
on $src zfs snapshot tank/smoke@two
on $src sh -c "zfs send -i @one tank/smoke@two | $ssh_peer zfs recv -d -F backup"
got=$(on $dst sh -c 'cd "$(zfs get -H -o value mountpoint backup/smoke)" && stat -c %s data.bin && sha256sum data.bin && cat new.txt')
[ "$got" = "$(printf '1234567\n%s  data.bin\nsecond' "$want")" ] || fail "incremental receive: $dst shows '$got', want size 1234567, sha256 $want"
[ "$(on $dst zfs list -H -t snapshot -o name -r backup/smoke | tr '\n' ' ')" = "backup/smoke@one backup/smoke@two " ] || fail "snapshots on $dst are not @one @two"
step "incremental send/recv over ssh: new content read back (no stale reads)"

# The controller's view: the lab's key and known_hosts, strict host key checking, from the root namespace.
name=$(ssh -o BatchMode=yes -o UserKnownHostsFile="$dir/known_hosts" -o StrictHostKeyChecking=yes -i "$dir/keys/fleet" root@$src_ip hostname)
[ "$name" = $src ] || fail "controller ssh to $src_ip printed '$name'"
[ "$(on $src hostname)" = $src ] && [ "$(hostname)" != $src ] || fail "UTS namespace: hostnames leak"
grep -q ' /mnt/tank' /proc/mounts && fail "a pool is mounted in the root mount namespace"
step "controller ssh with the lab's key and known_hosts: ok"

pids=$(cat "$dir"/hosts/*/zfs-fuse.pid "$dir"/hosts/*/sshd.pid)
t2=$(now)
bash "$lab" down "$dir"
t3=$(now)
torn_down=1
bash "$lab" down "$dir"
# A zombie is dead: daemons are reparented to an init that may reap them late.
for pid in $pids; do
  state=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
  state=${state##*) }
  [ "${state%% *}" = Z ] || fail "daemon $pid of the lab is still running: $(tr '\0' ' ' < "/proc/$pid/cmdline")"
done
bash "$lab" check-clean "$dir" $src $dst
ip netns list | grep -q '^fleet-smk' && fail "fleet-smk* network namespaces are left"
ip link show fv-$src >/dev/null 2>&1 && fail "veth fv-$src is left"
echo "smoke: PASS (up $(elapsed "$t0" "$t1")s, checks $(elapsed "$t1" "$t2")s, down $(elapsed "$t2" "$t3")s, total $(elapsed "$started" "$(now)")s)"
