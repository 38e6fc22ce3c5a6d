#!/usr/bin/env bash
# Runs every test twice: on SQLite, then on a throwaway PostgreSQL cluster. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/client-venv.sh
source scripts/postgres.sh
trap pg_stop EXIT

echo "== tests on SQLite =="
env -u DATABASE_URL .venv/bin/python -m pytest -q -p no:cacheprovider "$@"

echo "== tests on PostgreSQL =="
pg_start
DATABASE_URL="$PG_URL" .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
