#!/usr/bin/env bash
# Sourced by scripts/test.sh: redis_start runs a throwaway Redis on a free loopback port
# with a random password (experiments share loopback: an open Redis would be theirs too), exporting
# REDIS_BASE (redis://:PASSWORD@127.0.0.1:PORT, without a database number); redis_stop stops it
# and removes its folder. Installs Debian's redis-server if missing.

redis_install() {
    if ! command -v redis-server >/dev/null; then
        echo "Installing Redis (Debian package)..." >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    fi
    command -v redis-server >/dev/null || { echo "Redis could not be installed" >&2; return 1; }
}

redis_start() {
    redis_install || return 1
    local port
    REDIS_DIR=$(mktemp -d /tmp/dashboard-redis.XXXXXX)
    local password
    password=$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(16))')
    export REDISCLI_AUTH="$password"
    port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --bind 127.0.0.1 --port "$port" --requirepass "$password" --dir "$REDIS_DIR" --save '' --appendonly no \
        --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
        || { cat "$REDIS_DIR/redis.log" >&2; return 1; }
    for _ in $(seq 50); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    redis-cli -p "$port" ping >/dev/null || { cat "$REDIS_DIR/redis.log" >&2; return 1; }
    export REDIS_BASE="redis://:$password@127.0.0.1:$port"
}

redis_stop() {
    if [ -n "${REDIS_DIR:-}" ] && [ -f "$REDIS_DIR/redis.pid" ]; then
        kill "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null || true
        sleep 0.2
    fi
    [ -n "${REDIS_DIR:-}" ] && rm -rf "$REDIS_DIR"
    return 0
}
