#!/usr/bin/env bash
# apt-install.sh PACKAGE...: installs the Debian packages that are missing (as root), once at a time.
# setup.sh and the OpenZFS image build both install host packages, and test.sh runs them side by
# side; apt's own lock makes the second `apt-get update` fail at once, so they queue on ours.
set -euo pipefail
missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
exec 9>/run/lock/zfs-fleet-apt.lock
flock 9
printf '\033[1m==> installing Debian packages: %s\033[0m\n' "${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
# policy-rc.d keeps apt from starting the packages' own daemons: the lab starts its own.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
