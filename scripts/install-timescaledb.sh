#!/usr/bin/env bash
# Install the TimescaleDB extension (Apache-2 edition) for the machine's PostgreSQL.
# Idempotent: exits at once when timescaledb.so is already present for that PostgreSQL.
# Debian 13: installs postgresql-<major>-timescaledb if apt has it.
# Debian 12: builds Debian's own timescaledb source package (2.19.3) against the local PostgreSQL.
set -euo pipefail

log() { printf '[install-timescaledb] %s\n' "$*" >&2; }
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

pg_config_bin() {
  if [ -n "${LLEM_PG_CONFIG:-}" ]; then echo "$LLEM_PG_CONFIG"; return; fi
  local newest
  newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  if [ -n "$newest" ] && [ -x "$newest/pg_config" ]; then echo "$newest/pg_config"; return; fi
  command -v pg_config || true
}

pg_major() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 | awk -F/ '{print $5}'
}

installed() {
  local major="$1"
  [ -f "/usr/lib/postgresql/$major/lib/timescaledb.so" ]
}

ensure_postgres() {
  if [ -z "$(pg_major)" ]; then
    log "no PostgreSQL server found; installing Debian's postgresql"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  fi
}

ensure_postgres
MAJOR=$(pg_major)
if installed "$MAJOR"; then
  log "timescaledb already installed for PostgreSQL $MAJOR"
  exit 0
fi

APT_UPDATED=0
apt_update() { if [ "$APT_UPDATED" = 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi; }

apt_update
if apt-cache show "postgresql-$MAJOR-timescaledb" >/dev/null 2>&1; then
  log "installing postgresql-$MAJOR-timescaledb from apt"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "postgresql-$MAJOR-timescaledb" >/dev/null
  installed "$MAJOR" && exit 0
fi

log "building the Apache-2 edition from Debian's source package against PostgreSQL $MAJOR"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "postgresql-server-dev-$MAJOR" cmake gcc make libssl-dev >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial"
echo "deb-src http://deb.debian.org/debian trixie main" > "$work/sources.list"
APTOPT=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=/dev/null" -o "Dir::State::Lists=$work/lists")
$SUDO apt-get "${APTOPT[@]}" update -qq
(cd "$work" && apt-get "${APTOPT[@]}" source --download-only timescaledb >/dev/null)
tarball=$(ls "$work"/timescaledb_*.orig.tar.* | head -n1)
mkdir "$work/src"
tar -xf "$tarball" -C "$work/src" --strip-components=1
cd "$work/src"
./bootstrap -DAPACHE_ONLY=ON -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF \
  -DSEND_TELEMETRY_DEFAULT=OFF -DPG_CONFIG="$(pg_config_bin)" >/dev/null
make -C build -j"$(nproc)" >/dev/null
$SUDO make -C build install >/dev/null
installed "$MAJOR" || { log "build finished but timescaledb.so is missing"; exit 1; }
log "timescaledb installed for PostgreSQL $MAJOR"
