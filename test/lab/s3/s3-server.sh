#!/usr/bin/env bash
# s3-server.sh up|down DIR: a one-node Ceph cluster (mon + one memstore osd + radosgw), the real S3
# server the export tests run against. The monitor listens on 127.0.0.1:S3_MON_PORT (S3_PORT+1), S3 on
# S3_ADDRESS:S3_PORT (default 127.0.0.1:7480; 10.77.0.1 reaches the lab's hosts). `up` prints
# `endpoint=...`, `accessKeyId=...`, `secretAccessKey=...`, `startSeconds=...` lines (keys generated
# per run) and writes the keys to DIR/credentials.env (mode 600). Data lives in memory (memstore).
set -euo pipefail
action=${1:?usage: s3-server.sh up|down DIR}
dir=$(realpath -m "${2:?usage: s3-server.sh up|down DIR}")
address=${S3_ADDRESS:-127.0.0.1}
port=${S3_PORT:-7480}
mon_port=${S3_MON_PORT:-$((port + 1))}
conf=$dir/ceph.conf

stop_all() {
  for pidfile in "$dir"/run/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { echo "s3-server: timed out waiting for $what (logs in $dir/log)" >&2; return 1; }
    sleep 0.5
  done
}

if [ "$action" = down ]; then
  stop_all
  rm -rf "$dir"
  exit 0
fi
[ "$action" = up ] || { echo "usage: s3-server.sh up|down DIR" >&2; exit 2; }

mkdir -p "$dir"/{run,log,mon,osd}
fsid=$(cat /proc/sys/kernel/random/uuid)
cat > "$conf" <<CONF
[global]
fsid = $fsid
mon host = 127.0.0.1:$mon_port
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
run dir = $dir/run
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
osd objectstore = memstore
memstore device bytes = ${S3_STORE_BYTES:-4294967296}
osd data = $dir/osd/\$name
mon data = $dir/mon/\$name
osd max object size = 1073741824
# auth none needs crc mode: daemons default to secure mode towards the monitor, which needs cephx.
ms mon client mode = crc
ms mon service mode = crc
ms mon cluster mode = crc
mon data avail warn = 5
[client.rgw.a]
rgw frontends = beast endpoint=$address:$port
rgw data = $dir/rgw
CONF

start=$SECONDS
monmaptool --create --add a "127.0.0.1:$mon_port" --fsid "$fsid" "$dir/monmap" >/dev/null
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >/dev/null 2>&1
ceph-mon -c "$conf" -i a
wait_for 30 "the monitor" ceph -c "$conf" --connect-timeout 5 mon stat

osd_uuid=$(cat /proc/sys/kernel/random/uuid)
osd_id=$(ceph -c "$conf" osd new "$osd_uuid")
mkdir -p "$dir/osd/osd.$osd_id"
ceph-osd -c "$conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >/dev/null 2>&1
ceph-osd -c "$conf" -i "$osd_id" 2>>"$dir/log/stderr.log"
wait_for 60 "the osd" sh -c "ceph -c '$conf' osd stat | grep -q '1 up'"

mkdir -p "$dir/rgw"
# radosgw answers in ~15 s; once in CI it never did within 90 s. Start it again once before giving up,
# and show its log, since the test removes the folder.
start_rgw() { radosgw -c "$conf" -n client.rgw.a 2>>"$dir/log/stderr.log"; }
start_rgw
if ! wait_for 60 "radosgw" curl -sf "http://$address:$port/" 2>/dev/null; then
  [ -e "$dir/run/client.rgw.a.pid" ] && kill -KILL "$(cat "$dir/run/client.rgw.a.pid")" 2>/dev/null
  rm -f "$dir/run/client.rgw.a.pid"
  start_rgw
  wait_for 90 "radosgw" curl -sf "http://$address:$port/" || { tail -n 20 "$dir"/log/* >&2 2>/dev/null; exit 1; }
fi

access_key=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
secret_key=$(head -c 30 /dev/urandom | base64 | tr -d '/+=\n')
radosgw-admin -c "$conf" user create --uid fleet-test --display-name fleet-test \
  --access-key "$access_key" --secret-key "$secret_key" >/dev/null
umask 077
printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$access_key" "$secret_key" > "$dir/credentials.env"
echo "endpoint=http://$address:$port"
echo "accessKeyId=$access_key"
echo "secretAccessKey=$secret_key"
echo "startSeconds=$((SECONDS - start))"
