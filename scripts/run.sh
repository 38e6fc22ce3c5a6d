#!/usr/bin/env bash
# Installs everything, builds the SQLite database, seeds the demo, serves http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export FLASK_APP=wsgi
.venv/bin/flask db upgrade
.venv/bin/flask seed-demo
echo "Dashboard: http://127.0.0.1:8000  (API: http://127.0.0.1:8000/api/v1/)"
exec .venv/bin/flask run --host 127.0.0.1 --port "${PORT:-8000}" --with-threads
