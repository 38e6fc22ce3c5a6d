#!/usr/bin/env bash
# Runs every test twice: on SQLite, then on a throwaway PostgreSQL cluster. Extra args go to pytest.
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
trap pg_stop EXIT

echo "== tests on SQLite =="
env -u DATABASE_URL .venv/bin/python -m pytest -q -p no:cacheprovider "$@"

echo "== tests on PostgreSQL =="
pg_start
DATABASE_URL="$PG_URL" .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
