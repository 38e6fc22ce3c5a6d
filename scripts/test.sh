#!/usr/bin/env bash
# Runs every test twice, on SQLite and on a throwaway PostgreSQL cluster, both at once (each in
# its own database); extra arguments go to pytest. Fails if either run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/client-venv.sh
# Browser tests drive Debian's Chromium (playwright cannot download browsers here).
if ! command -v chromium >/dev/null; then
    echo "Installing Chromium (Debian package)..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
source scripts/postgres.sh
source scripts/redis.sh
logs=$(mktemp -d)
trap 'pg_stop; redis_stop; rm -rf "$logs"' EXIT
pg_start
# One Redis for both runs, a database number each (the Celery runner's tests).
redis_start

env -u DATABASE_URL REDIS_URL="$REDIS_BASE/0" SCREENSHOT_DIR="$PWD/screenshots" \
    .venv/bin/python -m pytest -q -p no:cacheprovider "$@" >"$logs/sqlite.log" 2>&1 &
sqlite_run=$!
DATABASE_URL="$PG_URL" REDIS_URL="$REDIS_BASE/1" SCREENSHOT_DIR="$logs/pg-screenshots" \
    .venv/bin/python -m pytest -q -p no:cacheprovider "$@" >"$logs/postgresql.log" 2>&1 &
pg_run=$!

status=0
wait "$sqlite_run" || status=1
echo "== tests on SQLite =="
cat "$logs/sqlite.log"
wait "$pg_run" || status=1
echo "== tests on PostgreSQL =="
cat "$logs/postgresql.log"
exit "$status"
