#!/usr/bin/env bash
# Extra CI step: the storage contract suite and the documents suite against a real S3 server,
# Ceph RGW on a single-node cluster (1 mon, 1 memstore OSD, RGW on 127.0.0.1:7481), run from
# Debian 13 packages in a debootstrapped chroot (~3 min cold, ~16 s start). moto stays the
# default S3 of `make test`; moto accepts any credentials, RGW does not.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="${EAKTE_CEPH_CHROOT:-/var/tmp/eakte-ceph-chroot}"
LOG=/tmp/eakte-ci-ceph.log

if [ ! -x "$ROOT/usr/bin/radosgw" ]; then
  command -v debootstrap >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }
  debootstrap --variant=minbase trixie "$ROOT" http://deb.debian.org/debian >"$LOG" 2>&1
  chroot "$ROOT" bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends radosgw ceph-common ceph-mon ceph-osd curl' >>"$LOG" 2>&1
fi
mountpoint -q "$ROOT/proc" || mount --bind /proc "$ROOT/proc"
mountpoint -q "$ROOT/dev" || mount --bind /dev "$ROOT/dev"
cleanup() {  # stop exactly the daemons this step started (their pid files), then unmount
  for pid_file in "$ROOT"/run/ceph/*.pid; do
    [ -f "$pid_file" ] && kill "$(cat "$pid_file")" 2>/dev/null || true
  done
  sleep 2
  umount "$ROOT/dev" "$ROOT/proc" 2>/dev/null || true
}
trap cleanup EXIT
cp .ci/start-ceph-rgw.sh "$ROOT/start-ceph-rgw.sh"
# the daemons inherit stdout: keep it out of the CI log
chroot "$ROOT" bash /start-ceph-rgw.sh >>"$LOG" 2>&1 </dev/null
curl -fsS -o /dev/null http://127.0.0.1:7481/ || curl -sS http://127.0.0.1:7481/ | head -c 200

EAKTE_TEST_S3_ENDPOINT=http://127.0.0.1:7481 \
EAKTE_TEST_S3_ACCESS_KEY=eakteaccess \
EAKTE_TEST_S3_SECRET_KEY=eaktesecret0123456789 \
  .venv/bin/python -m pytest -q -p no:randomly tests/storage tests/eakte/documents
