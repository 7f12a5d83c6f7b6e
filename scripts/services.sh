#!/usr/bin/env bash
# Start a throwaway PostgreSQL and Redis on loopback, run a command against them, stop them.
#
#   scripts/services.sh <command...>
#
# Installs Debian's postgresql, redis-server, chromium, pango and fonts-noto-cjk packages when they
# are missing. Exports DATABASE_URL and REDIS_URL for the command. The servers live in a temporary
# folder that is removed afterwards, whatever the command's outcome. A server that cannot be
# started is a failure: nothing falls back to in-process Celery.
set -euo pipefail
LOG_TAG=services
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

need_postgres
command -v redis-server >/dev/null || apt_install redis-server
command -v redis-server >/dev/null || die "redis-server not found after install"
# The browser tests (tests/test_browser.py) drive Debian's chromium; Playwright's own download
# is not used.
[ -x /usr/bin/chromium ] || apt_install chromium
[ -x /usr/bin/chromium ] || die "chromium not found after install"
# Chinese glyphs for the portal's browser tests, and pango for the PDF reports' tests.
need_pdf_libs

TMP=$(mktemp -d /tmp/portal-services.XXXXXX)
chmod 755 "$TMP"
PGDATA="$TMP/pg"
PGPORT=$(free_port)
REDISPORT=$(free_port)
pg_owner_setup "$TMP" "$PGDATA"

cleanup() {
  local rc=$?
  log "stopping PostgreSQL and Redis"
  pg_stop "$PGDATA" immediate >/dev/null 2>&1 || true
  redis-cli -p "$REDISPORT" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT INT TERM

log "starting PostgreSQL ($PGBIN) on 127.0.0.1:$PGPORT"
pg_init "$PGDATA" "$TMP/initdb.log"
pg_start "$PGDATA" "$PGPORT" "$TMP" "$PGDATA/server.log" \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200

log "starting Redis on 127.0.0.1:$REDISPORT"
redis-server --bind 127.0.0.1 --port "$REDISPORT" --save '' --appendonly no --daemonize yes \
  --dir "$TMP" --logfile "$TMP/redis.log" >/dev/null || die "Redis did not start"
for _ in $(seq 50); do redis-cli -p "$REDISPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$REDISPORT" ping >/dev/null 2>&1 || die "Redis does not answer"

export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/portal"
export REDIS_URL="redis://127.0.0.1:$REDISPORT/0"
pg_create_db "$PGPORT" portal
# For tests that restart the cluster (tests/test_faults_database.py): its folder, binaries, and
# the user it runs as (empty unless root).
PG_RUNAS_CMD="${PG_RUNAS[*]:-}"
export PGDATA PGBIN PG_RUNAS_CMD
log "DATABASE_URL=$DATABASE_URL REDIS_URL=$REDIS_URL"

set +e
"$@"
rc=$?
set -e
exit $rc
