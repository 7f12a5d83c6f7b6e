# Shell functions shared by scripts/services.sh (throwaway servers for tests) and
# scripts/demo-db.sh (the demo's kept PostgreSQL cluster). Source it; it sets nothing else.
#
# LOG_TAG names the caller in log lines ("services", "demo-db").

log() { printf '[%s] %s\n' "${LOG_TAG:-portal}" "$*" >&2; }
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

# Sets PGBIN to the newest installed PostgreSQL's binaries, installing Debian's package first
# when there is none.
need_postgres() {
  PGBIN=$(pg_bindir) || { apt_install postgresql; PGBIN=$(pg_bindir) || die "PostgreSQL binaries not found after install"; }
}

# The PDF reports (reports/pdf.py): WeasyPrint lays out text with Debian's pango and harfbuzz,
# in Noto Sans CJK (fonts-noto-cjk); it loads them at run time, so pip cannot bring them.
PDF_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk)
need_pdf_libs() {
  dpkg -s "${PDF_PACKAGES[@]}" >/dev/null 2>&1 || apt_install "${PDF_PACKAGES[@]}"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Sets PG_RUNAS, the command prefix that runs the cluster's programs: empty for a normal user;
# as root `runuser -u postgres --`, because initdb and postgres refuse to run as root. As root,
# the folders given are created and handed to postgres (created first, if it does not exist).
pg_owner_setup() {
  PG_RUNAS=()
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    mkdir -p "$@" && chown postgres "$@"
    PG_RUNAS=(runuser -u postgres --)
  else
    mkdir -p "$@"
  fi
}

# pg_init DATADIR LOGFILE: a new cluster with the superuser postgres, trusted on loopback only
# (the server listens on 127.0.0.1 and a private socket folder, nowhere else).
pg_init() {
  "${PG_RUNAS[@]}" "$PGBIN/initdb" -D "$1" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$2" 2>&1 \
    || { cat "$2" >&2; die "initdb failed"; }
}

# pg_start DATADIR PORT SOCKETDIR LOGFILE [server options...]
pg_start() {
  local data=$1 port=$2 sock=$3 logfile=$4
  shift 4
  "${PG_RUNAS[@]}" "$PGBIN/pg_ctl" -D "$data" -l "$logfile" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $sock $*" start >/dev/null \
    || { tail -n 20 "$logfile" >&2; die "PostgreSQL did not start (log: $logfile)"; }
}

# pg_stop DATADIR [MODE]: stop the cluster if it runs (MODE: fast, the default, or immediate).
pg_stop() {
  [ -f "$1/postmaster.pid" ] || return 0
  "${PG_RUNAS[@]}" "$PGBIN/pg_ctl" -D "$1" -m "${2:-fast}" -w -t 60 stop >/dev/null
}

# pg_create_db PORT NAME: create the database unless it exists.
pg_create_db() {
  local exists
  exists=$("$PGBIN/psql" -h 127.0.0.1 -p "$1" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$2'" postgres) \
    || die "cannot connect to PostgreSQL on 127.0.0.1:$1"
  [ "$exists" = 1 ] || "$PGBIN/psql" -h 127.0.0.1 -p "$1" -U postgres -qc "CREATE DATABASE \"$2\"" postgres >/dev/null \
    || die "could not create the database $2"
}
