#!/usr/bin/env bash
# Start a throwaway PostgreSQL and Redis on loopback, run a command against them, stop them.
#
#   scripts/services.sh <command...>
#
# Installs Debian's postgresql, redis-server and chromium packages when they are missing. Exports
# DATABASE_URL and REDIS_URL for the command. The servers live in a temporary folder that is
# removed afterwards, whatever the command's outcome. A server that cannot be started is a
# failure: nothing falls back to SQLite or to in-process Celery.
set -euo pipefail

log() { printf '[services] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

apt_install() {
  log "installing $* from Debian packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2 \
    || die "could not install $* (need root or sudo, and a Debian package mirror)"
}

pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

PGBIN=$(pg_bindir) || { apt_install postgresql; PGBIN=$(pg_bindir) || die "PostgreSQL binaries not found after install"; }
command -v redis-server >/dev/null || apt_install redis-server
command -v redis-server >/dev/null || die "redis-server not found after install"
# The browser tests (tests/test_browser.py) drive Debian's chromium; Playwright's own download
# is not used.
[ -x /usr/bin/chromium ] || apt_install chromium
[ -x /usr/bin/chromium ] || die "chromium not found after install"

TMP=$(mktemp -d /tmp/portal-services.XXXXXX)
chmod 755 "$TMP"
PGDATA="$TMP/pg"
PGPORT=$(free_port)
REDISPORT=$(free_port)
RUNAS=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses to run as root: the cluster belongs to the postgres user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  mkdir -p "$PGDATA" && chown postgres "$TMP" "$PGDATA"
  RUNAS=(runuser -u postgres --)
fi

cleanup() {
  local rc=$?
  log "stopping PostgreSQL and Redis"
  [ -f "$PGDATA/postmaster.pid" ] && "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
  redis-cli -p "$REDISPORT" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT INT TERM

log "starting PostgreSQL ($PGBIN) on 127.0.0.1:$PGPORT"
"${RUNAS[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$TMP/initdb.log" 2>&1 \
  || { cat "$TMP/initdb.log" >&2; die "initdb failed"; }
"${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$TMP/pg/server.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $PGPORT -k $TMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { cat "$TMP/pg/server.log" >&2; die "PostgreSQL did not start"; }

log "starting Redis on 127.0.0.1:$REDISPORT"
redis-server --bind 127.0.0.1 --port "$REDISPORT" --save '' --appendonly no --daemonize yes \
  --dir "$TMP" --logfile "$TMP/redis.log" >/dev/null || die "Redis did not start"
for _ in $(seq 50); do redis-cli -p "$REDISPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$REDISPORT" ping >/dev/null 2>&1 || die "Redis does not answer"

export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/portal"
export REDIS_URL="redis://127.0.0.1:$REDISPORT/0"
# For tests that restart the cluster (tests/test_faults_database.py): its folder, binaries, and
# the user it runs as (empty unless root).
export PGDATA PGBIN PG_RUNAS="${RUNAS[*]:-}"
"$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "CREATE DATABASE portal" postgres >/dev/null \
  || die "could not create the database"
log "DATABASE_URL=$DATABASE_URL REDIS_URL=$REDIS_URL"

set +e
"$@"
rc=$?
set -e
exit $rc
