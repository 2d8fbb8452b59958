#!/usr/bin/env bash
# One OpenZFS 2.3 host for the lab: a qemu virtual machine (software emulation: KVM does not
# run guests on these machines) booting the image of build-image.sh from a throw-away overlay.
#
#   vm.sh up DIR [PORT [IMAGE]]  boot a VM (state in DIR) from IMAGE (default: build-image.sh's),
#                         wait for its sshd, write DIR/vm.json
#   vm.sh down DIR        stop the VM started in DIR (by its pid) and remove DIR (safe to repeat)
#   vm.sh ssh DIR CMD...  run CMD in the guest as root (stdin passes through, exit code kept)
#
# Networking is qemu's user mode: the guest's sshd is forwarded from 127.0.0.1:PORT and, when
# the lab bridge exists, from its address 10.77.0.1:PORT (so zfs-fuse lab hosts reach it). The
# guest's sshd also listens on PORT itself, so an address 127.0.0.1:PORT means the same host
# from the controller and from inside the guest (where its agents ssh to their peers).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bridge_ip=10.77.0.1

die() { echo "openzfs vm: $*" >&2; exit 1; }
say() { echo "openzfs vm: $*" >&2; }
now() { echo "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

ssh_opts() {
  local dir=$1
  echo -i "$dir/lab_key" -p "$(cat "$dir/port")" -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no \
    -o LogLevel=ERROR -o ConnectTimeout=5 -o BatchMode=yes
}

cmd_up() {
  local dir=$1 port=${2:-2213} image=${3:-}
  [ ! -e "$dir/qemu.pid" ] || die "$dir already holds a VM; run 'vm.sh down $dir' first"
  local started; started=$(now)
  [ -n "$image" ] || image=$(bash "$here/build-image.sh")
  [ -f "$image/ok" ] || die "no finished image in '$image'"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  echo "$port" > "$dir/port"
  echo "$image" > "$dir/image"
  install -m 600 "$image/lab_key" "$dir/lab_key"
  cp "$image/lab_key.pub" "$dir/lab_key.pub"
  qemu-img create -q -f qcow2 -b "$image/root.qcow2" -F qcow2 "$dir/overlay.qcow2"
  local forwards="hostfwd=tcp:127.0.0.1:$port-:22"
  if ip -4 addr show 2>/dev/null | grep -q "inet $bridge_ip/"; then forwards+=",hostfwd=tcp:$bridge_ip:$port-:22"; echo "$bridge_ip" > "$dir/bridge"; fi
  # Descriptors this shell holds (a test runner's pipes, a lock) must not stay open in qemu.
  (
    for fd in /proc/$BASHPID/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done
    exec qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp "${OPENZFS_VM_CPUS:-2}" -m "${OPENZFS_VM_MEMORY:-2048}" \
      -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
      -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet" \
      -drive "file=$dir/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe" \
      -netdev "user,id=n0,$forwards" -device virtio-net-pci,netdev=n0 \
      -display none -serial "file:$dir/console.log" -monitor none \
      -pidfile "$dir/qemu.pid" -daemonize </dev/null >"$dir/qemu.log" 2>&1
  ) || { cat "$dir/qemu.log" >&2; die "qemu did not start"; }
  say "booting (pid $(cat "$dir/qemu.pid")), waiting for sshd on 127.0.0.1:$port"
  local deadline=$((SECONDS + ${OPENZFS_BOOT_TIMEOUT:-300}))
  # shellcheck disable=SC2046
  until ssh $(ssh_opts "$dir") root@127.0.0.1 true </dev/null 2>/dev/null; do
    kill -0 "$(cat "$dir/qemu.pid")" 2>/dev/null || { tail -n 30 "$dir/console.log" >&2; die "qemu exited while booting"; }
    [ $SECONDS -lt $deadline ] || { tail -n 30 "$dir/console.log" >&2; die "no ssh after ${OPENZFS_BOOT_TIMEOUT:-300} s"; }
    sleep 2
  done
  # The guest's host key, as the controller and the guest's own ssh see it at this address.
  local key; key=$(ssh-keyscan -p "$port" -t ed25519 127.0.0.1 2>/dev/null | grep -v '^#' | cut -d' ' -f2,3)
  [ -n "$key" ] || die "could not read the guest's host key"
  echo "$key" > "$dir/host_key"
  # The guest's sshd listens on the forwarded port too (this overlay only), and its root trusts
  # its own host key at the addresses the fleet config uses.
  # shellcheck disable=SC2046
  ssh $(ssh_opts "$dir") root@127.0.0.1 "modprobe zfs && printf 'Port 22\nPort $port\n' > /etc/ssh/sshd_config.d/zz-zfs-fleet-port.conf && systemctl reload ssh && printf '[127.0.0.1]:$port $key\n[$bridge_ip]:$port $key\n' >> /root/.ssh/known_hosts" </dev/null
  for _ in $(seq 1 50); do
    # shellcheck disable=SC2046
    ssh $(ssh_opts "$dir") root@127.0.0.1 "ssh -o BatchMode=yes -p $port root@127.0.0.1 true" </dev/null 2>/dev/null && break
    sleep 0.5
  done
  local boot; boot=$(since "$started")
  echo "$boot" > "$dir/boot-seconds"
  printf '{ "pid": %s, "port": %s, "image": "%s", "keyFile": "%s", "hostKey": "%s", "bridgeAddress": %s, "bootSeconds": %s }\n' \
    "$(cat "$dir/qemu.pid")" "$port" "$image" "$dir/lab_key" "$key" "$([ -f "$dir/bridge" ] && echo "\"$bridge_ip\"" || echo null)" "$boot" > "$dir/vm.json"
  say "up in ${boot}s: ssh root@127.0.0.1 -p $port (key $dir/lab_key)"
}

cmd_down() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ -f "$dir/qemu.pid" ]; then
    local pid; pid=$(cat "$dir/qemu.pid")
    # Only the qemu this directory started: its pid file names it and its command line names the overlay.
    if kill -0 "$pid" 2>/dev/null && grep -qa "$dir/overlay.qcow2" "/proc/$pid/cmdline"; then
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
  fi
  rm -rf "$dir"
}

cmd_ssh() {
  local dir=$1; shift
  # shellcheck disable=SC2046
  exec ssh $(ssh_opts "$dir") root@127.0.0.1 "$@"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  ssh) shift; cmd_ssh "$@" ;;
  *) die "usage: vm.sh up DIR [PORT] | down DIR | ssh DIR CMD..." ;;
esac
