#!/usr/bin/env bash
# Builds zfs-fleet's release packages from a checkout after `npm ci`, offline:
#
#   zfs-fleet-<version>.tgz                 npm package of the controller: `npm install -g` puts `fleet`
#                                           on the PATH; no dependencies (one bundled file), with the agent
#                                           (bundle and linux-x64 single executable) for `fleet agent install`
#   zfs-fleet_<version>_all.deb             the controller: /usr/bin/fleet, systemd unit and timer,
#                                           /etc/zfs-fleet/fleet.yaml, shell completions, docs
#   zfs-fleet-agent_<version>_amd64.deb     the agent as a single executable (no Node.js needed)
#
#   scripts/package.sh [OUTDIR]             default OUTDIR: dist/packages
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$(mkdir -p "${1:-dist/packages}" && cd "${1:-dist/packages}" && pwd)
say() { printf '==> %s\n' "$*" >&2; }

say "building"
npx turbo run build --output-logs=errors-only >/dev/null
fleet_mjs=packages/controller/dist/fleet.mjs
agent_mjs=packages/agent/dist/fleet-agent.mjs
agent_exe=packages/agent/dist/fleet-agent-linux-x64
version=$(node "$fleet_mjs" version)
[ "$("$agent_exe" version)" = "$version" ] || { echo "package: the single executable is not version $version" >&2; exit 1; }
# Reproducible: every timestamp is the last commit's.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# Controller files shared by the npm package and the .deb: the bundle and the agent beside it
# (fleet.mjs finds agent/ next to itself).
controller_files() {
  local dir=$1
  install -D -m 0755 "$fleet_mjs" "$dir/fleet.mjs"
  install -D -m 0755 "$agent_mjs" "$dir/agent/fleet-agent.mjs"
}

say "zfs-fleet-$version.tgz"
npm_dir=$stage/npm
controller_files "$npm_dir"
install -m 0755 "$agent_exe" "$npm_dir/agent/fleet-agent-linux-x64"
cp README.md "$npm_dir/"
mkdir -p "$npm_dir/docs" "$npm_dir/deploy"
cp docs/*.md "$npm_dir/docs/"
cp -r deploy/systemd deploy/cron deploy/prometheus "$npm_dir/deploy/"
[ ! -d deploy/grafana ] || cp -r deploy/grafana "$npm_dir/deploy/"
node -e '
  const [version, file] = process.argv.slice(1);
  const manifest = {
    name: "zfs-fleet",
    version,
    description: "Back up the ZFS datasets of a whole fleet of hosts from one controller.",
    type: "module",
    bin: { fleet: "fleet.mjs" },
    engines: { node: ">=20.19" },
    keywords: ["zfs", "backup", "replication", "snapshot"],
  };
  require("node:fs").writeFileSync(file, JSON.stringify(manifest, null, 2) + "\n");
' "$version" "$npm_dir/package.json"
rm -f "$out/zfs-fleet-$version.tgz"
(cd "$npm_dir" && npm pack --silent --pack-destination "$out" >/dev/null)

# Debian packages: built as root:root with dpkg-deb; changelog and copyright as Debian policy asks.
deb_docs() {
  local dir=$1 package=$2
  install -d "$dir/usr/share/doc/$package"
  cat > "$dir/usr/share/doc/$package/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: zfs-fleet
Comment: Built from the zfs-fleet repository by scripts/package.sh.

Files: *
Copyright: 2026 the zfs-fleet authors
License: all-rights-reserved
 No licence has been granted yet; the authors keep all rights.
EOF
  printf '%s (%s) unstable; urgency=medium\n\n  * Release %s, built by scripts/package.sh.\n\n -- zfs-fleet maintainers <zfs-fleet@example.org>  %s\n' \
    "$package" "$version" "$version" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")" | gzip -9n > "$dir/usr/share/doc/$package/changelog.gz"
}

# xz for the small controller; gzip for the agent's 100 MB executable: xz takes minutes on two
# cores, and every dpkg (even Debian 11's, which lacks zstd) reads gzip.
build_deb() {
  local dir=$1 file=$2 compression=$3
  find "$dir" -type d -exec chmod 0755 {} +
  find "$dir" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  dpkg-deb --root-owner-group "$compression" --build "$dir" "$out/$file" >/dev/null
}

say "zfs-fleet_${version}_all.deb"
deb=$stage/deb-controller
controller_files "$deb/usr/lib/zfs-fleet"
install -d "$deb/usr/bin"
ln -s ../lib/zfs-fleet/fleet.mjs "$deb/usr/bin/fleet"
install -d "$deb/lib/systemd/system"
sed -e 's|^ExecStart=/usr/local/bin/fleet|ExecStart=/usr/bin/fleet|' -e 's|^Documentation=.*|Documentation=file:///usr/share/doc/zfs-fleet/operations.md|' \
  deploy/systemd/zfs-fleet.service > "$deb/lib/systemd/system/zfs-fleet.service"
install -m 0644 deploy/systemd/zfs-fleet.timer "$deb/lib/systemd/system/zfs-fleet.timer"
install -D -m 0644 deploy/package/fleet.yaml "$deb/etc/zfs-fleet/fleet.yaml"
install -d "$deb/usr/share/bash-completion/completions" "$deb/usr/share/zsh/vendor-completions"
node "$fleet_mjs" completion bash > "$deb/usr/share/bash-completion/completions/fleet"
node "$fleet_mjs" completion zsh > "$deb/usr/share/zsh/vendor-completions/_fleet"
deb_docs "$deb" zfs-fleet
cp README.md docs/*.md "$deb/usr/share/doc/zfs-fleet/"
install -d "$deb/usr/share/doc/zfs-fleet/examples"
cp deploy/prometheus/zfs-fleet.rules.yml deploy/cron/zfs-fleet "$deb/usr/share/doc/zfs-fleet/examples/"
[ ! -f deploy/grafana/zfs-fleet.json ] || cp deploy/grafana/zfs-fleet.json "$deb/usr/share/doc/zfs-fleet/examples/"
install -D -m 0644 deploy/package/zfs-fleet.lintian-overrides "$deb/usr/share/lintian/overrides/zfs-fleet"
install -d "$deb/DEBIAN"
echo /etc/zfs-fleet/fleet.yaml > "$deb/DEBIAN/conffiles"
cat > "$deb/DEBIAN/control" <<EOF
Package: zfs-fleet
Version: $version
Architecture: all
Maintainer: zfs-fleet maintainers <zfs-fleet@example.org>
Installed-Size: $(du -sk --exclude=DEBIAN "$deb" | cut -f1)
Depends: nodejs (>= 20.19)
Suggests: zfs-fleet-agent
Section: admin
Priority: optional
Description: back up the ZFS datasets of a fleet of hosts from one place
 The fleet controller: one config file, one command and one report for the
 ZFS datasets of many hosts. It drives the zfs-fleet agent on every host over
 SSH; the hosts stream zfs send into zfs recv directly to one another.
 .
 A systemd timer (not enabled) runs the backups that are due.
EOF
build_deb "$deb" "zfs-fleet_${version}_all.deb" -Zxz

say "zfs-fleet-agent_${version}_amd64.deb"
deb=$stage/deb-agent
install -D -m 0755 "$agent_exe" "$deb/opt/zfs-fleet/lib/fleet-agent-$version-linux-x64"
install -d "$deb/opt/zfs-fleet/bin" "$deb/usr/bin"
printf '#!/bin/sh\n# zfs-fleet agent %s, installed by the zfs-fleet-agent package.\nexec /opt/zfs-fleet/lib/fleet-agent-%s-linux-x64 "$@"\n' "$version" "$version" > "$deb/opt/zfs-fleet/bin/fleet-agent"
chmod 0755 "$deb/opt/zfs-fleet/bin/fleet-agent"
ln -s /opt/zfs-fleet/bin/fleet-agent "$deb/usr/bin/fleet-agent"
deb_docs "$deb" zfs-fleet-agent
install -D -m 0644 deploy/package/zfs-fleet-agent.lintian-overrides "$deb/usr/share/lintian/overrides/zfs-fleet-agent"
install -d "$deb/DEBIAN"
cat > "$deb/DEBIAN/control" <<EOF
Package: zfs-fleet-agent
Version: $version
Architecture: amd64
Maintainer: zfs-fleet maintainers <zfs-fleet@example.org>
Installed-Size: $(du -sk --exclude=DEBIAN "$deb" | cut -f1)
Depends: libc6 (>= 2.28), libgcc-s1 | libgcc1, libstdc++6 (>= 5), zfsutils-linux | zfs-fuse
Section: admin
Priority: optional
Description: zfs-fleet agent, a single executable that needs no Node.js
 Runs zfs snapshot, send and receive for the zfs-fleet controller, which starts
 it over SSH as /opt/zfs-fleet/bin/fleet-agent. Its Node.js runtime is built in.
EOF
build_deb "$deb" "zfs-fleet-agent_${version}_amd64.deb" -Zgzip

ls -l "$out"/zfs-fleet*"$version"* >&2
