#!/usr/bin/env bash
# Creates .venv (Python 3.11) and installs the pinned requirements into it, and bubblewrap
# (experiments run in its sandbox) when it is missing; idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v bwrap >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "Installing bubblewrap (Debian package): experiments run in its sandbox..." >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
    else
        echo "bubblewrap is missing: install it (apt-get install bubblewrap), or set SANDBOX=off" \
             "to run experiments unisolated on a single-user machine." >&2
    fi
fi
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements-installed
if [ ! -f "$stamp" ] || ! cmp -s <(cat requirements.txt requirements-dev.txt) "$stamp"; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r requirements-dev.txt
    cat requirements.txt requirements-dev.txt > "$stamp"
fi
