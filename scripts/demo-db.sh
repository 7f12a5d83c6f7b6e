#!/usr/bin/env bash
# The demo's PostgreSQL cluster, kept between runs (what `make demo` serves from).
#
#   scripts/demo-db.sh start|stop|status|clean|url
#   scripts/demo-db.sh run <command...>   start, run the command with DATABASE_URL exported, stop
#
# The cluster lives in $PORTAL_DEMO_PGDATA (default /var/tmp/portal-demo-pg: outside the project
# and any home folder, so the postgres user can reach it when this runs as root) and listens on
# 127.0.0.1:$PORTAL_DEMO_PGPORT (default 5433, the portal's default DATABASE_URL), nowhere else.
# Installs Debian's postgresql package when it is missing. `start` creates the cluster and the
# database `portal` when missing and reuses them otherwise; `clean` stops the cluster and removes
# the folder.
set -euo pipefail
LOG_TAG=demo-db
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

DIR=${PORTAL_DEMO_PGDATA:-/var/tmp/portal-demo-pg}
PORT=${PORTAL_DEMO_PGPORT:-5433}
DATA="$DIR/data"
LOGFILE="$DIR/server.log"
URL="postgres://postgres@127.0.0.1:$PORT/portal"

# The binaries of the cluster's own major version when it has one (a newer PostgreSQL installed
# later cannot open an older cluster), otherwise the newest installed.
pick_bindir() {
  if [ -f "$DATA/PG_VERSION" ]; then
    PGBIN="/usr/lib/postgresql/$(cat "$DATA/PG_VERSION")/bin"
    [ -x "$PGBIN/pg_ctl" ] || die "$DATA is a PostgreSQL $(cat "$DATA/PG_VERSION") cluster, whose binaries are not installed; make demo-clean starts afresh"
  else
    need_postgres
  fi
}

# As root, pg_owner_setup runs the cluster as postgres; a cluster that a normal user created
# (make demo without root, then with it) runs as that user instead.
own_cluster() {
  if [ "$(id -u)" -eq 0 ] && [ -d "$DATA" ] && [ "$(stat -c %U "$DATA")" != postgres ]; then
    PG_RUNAS=(runuser -u "$(stat -c %U "$DATA")" --)
  else
    pg_owner_setup "$DIR"
  fi
}

running() { [ -f "$DATA/postmaster.pid" ] && "${PG_RUNAS[@]}" "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

port_taken() { python3 -c 'import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))) != 0)' "$1"; }

start() {
  pick_bindir
  if [ -e "$DIR" ] && [ "$(id -u)" -ne 0 ] && [ ! -O "$DIR" ]; then
    die "$DIR belongs to another user; choose another folder with PORTAL_DEMO_PGDATA (make demo DEMO_PGDATA=...)"
  fi
  own_cluster
  log "demo database folder: $DIR (kept between runs; make demo-clean removes it)"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    log "creating a new PostgreSQL cluster ($PGBIN) in $DATA"
    pg_owner_setup "$DATA"
    pg_init "$DATA" "$DIR/initdb.log"
  fi
  if running; then
    log "PostgreSQL already runs on 127.0.0.1:$PORT"
  else
    port_taken "$PORT" && die "127.0.0.1:$PORT is taken by another program; pick a free port: make demo DEMO_PGPORT=5434"
    log "starting PostgreSQL on 127.0.0.1:$PORT (log: $LOGFILE)"
    pg_start "$DATA" "$PORT" "$DIR" "$LOGFILE"
  fi
  pg_create_db "$PORT" portal
  log "DATABASE_URL=$URL"
}

stop() {
  [ -f "$DATA/PG_VERSION" ] || return 0
  pick_bindir
  own_cluster
  if running; then
    log "stopping PostgreSQL (the data stays in $DIR)"
    pg_stop "$DATA" fast
  fi
}

clean() {
  if [ -e "$DIR" ] && [ ! -f "$DATA/PG_VERSION" ] && [ -n "$(ls -A "$DIR")" ]; then
    die "$DIR does not look like the demo database folder; not removing it"
  fi
  stop
  log "removing $DIR"
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  clean) clean ;;
  url) echo "$URL" ;;
  status)
    if [ -f "$DATA/PG_VERSION" ]; then
      pick_bindir
      own_cluster
      if running; then echo "running on 127.0.0.1:$PORT, data in $DIR"; else echo "stopped, data in $DIR"; exit 3; fi
    else
      echo "no demo database in $DIR"
      exit 3
    fi
    ;;
  run)
    shift
    [ $# -gt 0 ] || die "run: no command given"
    start
    on_exit() {
      local rc=$?
      trap - EXIT INT TERM
      stop || true
      exit $rc
    }
    trap on_exit EXIT INT TERM
    export DATABASE_URL="$URL"
    set +e
    "$@"
    rc=$?
    set -e
    exit $rc
    ;;
  *)
    echo "usage: $0 start|stop|status|clean|url|run <command...>" >&2
    exit 2
    ;;
esac
