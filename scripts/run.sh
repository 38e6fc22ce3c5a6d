#!/usr/bin/env bash
# Installs everything, builds the SQLite database, seeds the demo, then serves
# http://127.0.0.1:8000 together with one worker that runs the experiments. The web server is
# production's: gunicorn with gunicorn.conf.py (gthread workers; WEB_CONCURRENCY, GUNICORN_THREADS).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export FLASK_APP=wsgi
PORT=${PORT:-8000}
export DASHBOARD_URL=${DASHBOARD_URL:-http://127.0.0.1:$PORT}
.venv/bin/flask db upgrade
.venv/bin/flask seed-demo
.venv/bin/flask worker &
worker=$!
trap 'kill "$worker" 2>/dev/null; wait "$worker" 2>/dev/null' EXIT INT TERM
echo "Dashboard: http://127.0.0.1:$PORT  (API: http://127.0.0.1:$PORT/api/v1/)"
GUNICORN_BIND="127.0.0.1:$PORT" .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app
