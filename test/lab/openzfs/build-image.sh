#!/usr/bin/env bash
# Builds (or finds) the OpenZFS lab image: Debian 12 with OpenZFS 2.3 from bookworm-backports
# (zfs-dkms builds the module for the guest's kernel), Node.js from Debian for the agent, and
# pv mbuffer zstd lz4 openssh. Debian packages only, nothing else is downloaded.
#
#   build-image.sh           print the image's directory, building it first when it is missing
#   build-image.sh --key     print the cache key only (hash of the build + package versions)
#   build-image.sh --cached  print the image's directory if it is built, else fail (builds nothing)
#
# The image lives outside the repo, in $OPENZFS_CACHE (default /var/cache/zfs-fleet/openzfs/<key>/):
#   vmlinuz, initrd.img   the guest's kernel and initramfs (booted with qemu -kernel/-initrd)
#   root.qcow2            the root filesystem (ext4 on the whole disk, /dev/vda); runs use overlays of it
#   lab_key, lab_key.pub  root's ssh key in the guest (authorized there; also the guest's own key)
#   versions.txt          what went in; ok marks a finished build
# The key is the hash of the build steps and the versions apt would install, so a new zfs-dkms,
# kernel or nodejs in Debian, or a change to the build, makes a new image; old ones stay until removed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${OPENZFS_CACHE:-/var/cache/zfs-fleet/openzfs}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
suite=bookworm
guest_packages=(
  systemd-sysv udev kmod e2fsprogs iproute2 procps util-linux less
  linux-image-amd64 linux-headers-amd64
  openssh-server openssh-client openssh-sftp-server
  nodejs pv mbuffer zstd lz4 coreutils
)
backports_packages=(zfs-dkms zfsutils-linux)
host_packages=(debootstrap qemu-system-x86 qemu-utils e2fsprogs openssh-client)

say() { printf '\033[1m==> openzfs image: %s\033[0m\n' "$*" >&2; }
die() { echo "openzfs image: $*" >&2; exit 1; }
now() { date +%s; }

ensure_host_packages() {
  bash "$here/../../../scripts/apt-install.sh" "${host_packages[@]}"
}

# A private apt state (lists only) that sees bookworm + backports with contrib, to learn the
# versions the guest would get without touching the host's own sources.
apt_private() {
  local d="$cache_root/.apt"
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/etc/preferences.d"
  cat > "$d/sources.list" <<EOF
deb $mirror $suite main contrib
deb $mirror $suite-updates main contrib
deb $mirror $suite-backports main contrib
deb $security_mirror $suite-security main contrib
EOF
  : > "$d/status"
  echo -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
    -o Dir::State::Lists="$d/lists" -o Dir::State::Status="$d/status" \
    -o Dir::Cache="$d/cache" -o Dir::Etc::Preferences="$d/preferences" \
    -o Dir::Etc::PreferencesParts="$d/etc/preferences.d" -o APT::Architecture=amd64
}

candidate_versions() {
  local opts; opts=$(apt_private)
  # shellcheck disable=SC2086
  apt-get $opts update -qq >/dev/null 2>&1 || return 1
  local p v
  for p in linux-image-amd64 nodejs openssh-server; do
    # shellcheck disable=SC2086
    v=$(apt-cache $opts policy "$p" | awk '/Candidate:/ { print $2 }')
    echo "$p=$v"
  done
  for p in "${backports_packages[@]}"; do
    # shellcheck disable=SC2086
    v=$(apt-cache $opts show -o APT::Default-Release="$suite-backports" "$p" 2>/dev/null |
      awk '/^Version:/ { print $2 }' | sort -V | tail -n1)
    echo "$p=$v"
  done
}

# What defines the image: the build steps and the package lists (not this file's comments or
# its cache handling, so that editing those does not throw away an 18-minute build).
script_hash() {
  { declare -f build in_chroot mounts_down; declare -p guest_packages backports_packages suite; } | sha256sum | cut -c1-12
}

# key: script hash + hash of the candidate versions. Without network, fall back to the newest
# finished image built by this script.
compute_key() {
  local versions
  if versions=$(candidate_versions) && [ -n "$versions" ] && ! grep -q '=$' <<<"$versions"; then
    echo "$(script_hash)-$(sha256sum <<<"$versions" | cut -c1-12)"
    printf '%s\n' "$versions" > "$cache_root/.versions-latest"
    return 0
  fi
  local found
  found=$(ls -1td "$cache_root/$(script_hash)"-*/ok 2>/dev/null | head -n1) || true
  [ -n "$found" ] || die "cannot learn package versions (no network?) and no image is cached"
  basename "$(dirname "$found")"
}

in_chroot() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }

mounts_down() {
  local m
  for m in dev/pts dev proc sys; do umount -l "$root/$m" 2>/dev/null || true; done
}

build() {
  local dir=$1 work="$1.build"
  rm -rf "$work"
  mkdir -p "$work"
  root="$work/root"
  trap 'mounts_down' EXIT
  local t0 t; t0=$(now); t=$t0
  local step_times=()
  lap() { local n; n=$(now); step_times+=("$1=$((n - t))s"); say "$1 done in $((n - t)) s"; t=$n; }

  say "debootstrap $suite (minbase) into $root"
  debootstrap --variant=minbase --components=main,contrib --include=ca-certificates,gnupg \
    "$suite" "$root" "$mirror" > "$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  lap debootstrap

  cat > "$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main contrib
deb $mirror $suite-updates main contrib
deb $mirror $suite-backports main contrib
deb $security_mirror $suite-security main contrib
EOF
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"
  mount -t proc proc "$root/proc"; mount -t sysfs sys "$root/sys"
  mount --bind /dev "$root/dev"; mount --bind /dev/pts "$root/dev/pts"
  echo 'MODULES=most' > "$root/etc/initramfs-tools/conf.d/zfs-fleet" 2>/dev/null || true
  in_chroot apt-get update -qq
  say "installing kernel, agent runtime and tools"
  in_chroot apt-get install -y -qq --no-install-recommends "${guest_packages[@]}" > "$work/apt-base.log" 2>&1 ||
    { tail -n 30 "$work/apt-base.log" >&2; die "guest packages failed"; }
  lap kernel-and-tools

  say "installing OpenZFS from $suite-backports (DKMS builds the module)"
  in_chroot apt-get install -y -qq --no-install-recommends -t "$suite-backports" "${backports_packages[@]}" > "$work/apt-zfs.log" 2>&1 ||
    { tail -n 40 "$work/apt-zfs.log" >&2; die "zfs packages failed"; }
  local kver; kver=$(ls "$root/lib/modules" | sort -V | tail -n1)
  find "$root/lib/modules/$kver" -name 'zfs.ko*' | grep -q . || die "no zfs module was built for $kver"
  lap zfs-dkms

  say "configuring the guest"
  echo openzfs-lab > "$root/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 openzfs-lab\n' > "$root/etc/hosts"
  printf '/dev/vda / ext4 rw,relatime 0 1\n' > "$root/etc/fstab"
  mkdir -p "$root/etc/systemd/network"
  printf '[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n' > "$root/etc/systemd/network/10-eth0.network"
  in_chroot systemctl enable systemd-networkd ssh >/dev/null 2>&1
  # Nothing in the image waits for a network that never comes up.
  in_chroot systemctl mask systemd-networkd-wait-online.service >/dev/null 2>&1 || true
  in_chroot systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer >/dev/null 2>&1 || true
  # Root logs in with a key only; the lab key is also the guest's own key (sources ssh to peers).
  sed -i 's/^root:[^:]*:/root:*:/' "$root/etc/shadow"
  ssh-keygen -q -t ed25519 -N '' -C openzfs-lab -f "$work/lab_key"
  install -d -m 700 "$root/root/.ssh"
  install -m 600 "$work/lab_key" "$root/root/.ssh/id_ed25519"
  install -m 644 "$work/lab_key.pub" "$root/root/.ssh/id_ed25519.pub"
  install -m 600 "$work/lab_key.pub" "$root/root/.ssh/authorized_keys"
  rm -f "$root"/etc/ssh/ssh_host_*
  in_chroot ssh-keygen -A >/dev/null
  # vm.sh adds the forwarded port as a second Port at boot (in the run's overlay).
  cat > "$root/etc/ssh/sshd_config.d/zfs-fleet-lab.conf" <<'EOF'
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
EOF
  mkdir -p "$root/etc/modules-load.d"; echo zfs > "$root/etc/modules-load.d/zfs.conf"
  rm -f "$root/usr/sbin/policy-rc.d"
  in_chroot apt-get clean
  in_chroot dpkg-query -W -f='${Package}=${Version}\n' linux-image-amd64 zfs-dkms zfsutils-linux nodejs openssh-server > "$work/versions.txt"
  echo "kernel=$kver" >> "$work/versions.txt"
  cp "$root/boot/vmlinuz-$kver" "$work/vmlinuz"
  cp "$root/boot/initrd.img-$kver" "$work/initrd.img"
  chmod 644 "$work/vmlinuz" "$work/initrd.img"
  mounts_down
  trap - EXIT

  say "making the root filesystem"
  # /boot's kernel and the dkms build tree are not needed inside; headers stay for dkms rebuilds.
  rm -rf "$root/var/lib/dkms/zfs/"*/build "$root/var/cache/apt/"*.bin
  truncate -s 6G "$work/root.raw"
  mkfs.ext4 -q -F -L root -d "$root" "$work/root.raw"
  qemu-img convert -O qcow2 "$work/root.raw" "$work/root.qcow2"
  rm -f "$work/root.raw"
  rm -rf "$root"
  lap filesystem
  printf 'total=%ss %s\n' "$(($(now) - t0))" "${step_times[*]}" > "$work/build-times.txt"
  touch "$work/ok"
  rm -rf "$dir"; mv "$work" "$dir"
  say "built $dir in $(($(now) - t0)) s"
}

main() {
  [ "$(id -u)" = 0 ] || die "run as root"
  mkdir -p "$cache_root"
  ensure_host_packages
  local key; key=$(compute_key)
  if [ "${1:-}" = --key ]; then echo "$key"; return; fi
  local dir="$cache_root/$key"
  if [ -f "$dir/ok" ]; then echo "$dir"; return; fi
  [ "${1:-}" != --cached ] || die "no image built for key $key"
  # One build at a time; a second caller waits for the first and then finds the image.
  exec 9>"$cache_root/.build.lock"
  flock 9
  if [ ! -f "$dir/ok" ]; then build "$dir"; fi
  exec 9>&-
  echo "$dir"
}

main "$@"
