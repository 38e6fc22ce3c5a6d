#!/usr/bin/env bash
# Sourced by scripts/test.sh: pg_start makes a throwaway PostgreSQL cluster on a free loopback
# port (exporting PG_URL), pg_stop stops and removes it. Installs Debian's postgresql if missing.
# pg_start_never_analysed starts one whose planner never gets statistics (autovacuum off), as a
# live server stands right after a big grid is created and before autovacuum runs.

pg_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

pg_install() {
    if [ -z "$(pg_bindir)" ] || [ ! -x "$(pg_bindir)/initdb" ]; then
        echo "Installing PostgreSQL (Debian package)..." >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    [ -x "$(pg_bindir)/initdb" ] || { echo "PostgreSQL could not be installed" >&2; return 1; }
}

pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
    # Extra arguments are server settings: pg_start -c autovacuum=off
    pg_install
    local bin port
    bin=$(pg_bindir)
    PG_DIR=$(mktemp -d /tmp/dashboard-pg.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR"
    port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    pg_as_owner "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 >/dev/null
    pg_as_owner "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off $*" start >/dev/null \
        || { cat "$PG_DIR/server.log" >&2; return 1; }
    pg_as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres dashboard_test
    export PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/dashboard_test"
    export PG_BIN="$bin"
}

pg_start_never_analysed() {
    pg_start -c autovacuum=off
}

pg_stop() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
        pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
    fi
}
