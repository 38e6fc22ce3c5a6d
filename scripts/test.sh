#!/usr/bin/env bash
# Runs every test twice, on SQLite and on a throwaway PostgreSQL cluster, both at once (each in
# its own database), and the plans test once more on a PostgreSQL that never analysed its tables;
# extra arguments go to the first two runs. Fails if any run fails.
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
fresh_dir=
trap 'pg_stop; [ -z "$fresh_dir" ] || PG_DIR="$fresh_dir" pg_stop; redis_stop; rm -rf "$logs"' EXIT
# A second cluster whose planner never gets statistics, as a server stands right after a big
# grid is created: the test of plans that must not depend on them runs there.
pg_start_never_analysed
fresh_url=$PG_URL fresh_dir=$PG_DIR
pg_start
# One Redis for both runs, a database number each (the Celery runner's tests).
redis_start

# Tests that touch no database (the search algorithms, the code's own checks) run once, in the
# PostgreSQL run: the SQLite run carries the full API fuzz, the longest of the two. (Not when
# tests are named: both runs then run what was named.)
no_database=()
if [ $# -eq 0 ]; then
    no_database=(--ignore-glob='tests/test_hptuning_*.py' --ignore=tests/test_code_style.py
        --ignore=tests/test_architecture.py --ignore=tests/test_test_layout.py
        --ignore=tests/test_examples_cli.py)
fi
env -u DATABASE_URL REDIS_URL="$REDIS_BASE/0" SCREENSHOT_DIR="$PWD/screenshots" \
    .venv/bin/python -m pytest -q -p no:cacheprovider --durations=15 "${no_database[@]}" "$@" \
    >"$logs/sqlite.log" 2>&1 &
sqlite_run=$!
DATABASE_URL="$PG_URL" REDIS_URL="$REDIS_BASE/1" SCREENSHOT_DIR="$logs/pg-screenshots" \
    .venv/bin/python -m pytest -q -p no:cacheprovider --durations=15 "$@" >"$logs/postgresql.log" 2>&1 &
pg_run=$!
DATABASE_URL="$fresh_url" DASHBOARD_NEVER_ANALYSED=1 .venv/bin/python -m pytest -q \
    -p no:cacheprovider tests/test_indexes.py -k before_any_statistics \
    >"$logs/never-analysed.log" 2>&1 &
fresh_run=$!

status=0
wait "$sqlite_run" || status=1
echo "== tests on SQLite =="
cat "$logs/sqlite.log"
wait "$pg_run" || status=1
echo "== tests on PostgreSQL =="
cat "$logs/postgresql.log"
wait "$fresh_run" || status=1
echo "== plans on a never-analysed PostgreSQL =="
cat "$logs/never-analysed.log"
exit "$status"
