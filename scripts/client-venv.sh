#!/usr/bin/env bash
# Build the virtualenv holding the published polyaxon-client / polyaxon-cli 0.6.1,
# which the compatibility tests (tests/test_client_compat.py, tests/test_cli_compat.py)
# drive against a live server.
#
# usage: scripts/client-venv.sh [DIR]     (default: <repo>/.venv-client)
# Idempotent: does nothing when DIR/bin/python exists and the packages import.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-$REPO_ROOT/.venv-client}"
PYTHON="${PYTHON:-python3.11}"

check() {
    "$DIR/bin/python" -c "import polyaxon_client; from polyaxon_client.client import PolyaxonClient; import polyaxon_cli.main" >/dev/null 2>&1 \
        && "$DIR/bin/polyaxon" --help >/dev/null 2>&1
}

if [ -x "$DIR/bin/python" ] && check; then
    exit 0
fi

"$PYTHON" -m venv "$DIR"
"$DIR/bin/python" -m pip install --quiet --disable-pip-version-check \
    polyaxon-client==0.6.1 \
    polyaxon-cli==0.6.1 \
    polyaxon-schemas==0.6.1 \
    polyaxon-deploy==0.6.1 \
    polyaxon-dockerizer==0.1.0 \
    polystores==0.2.5 \
    hestia==0.6.0 \
    rhea==0.5.5 \
    marshmallow==3.0.0rc5 \
    MarkupSafe==2.0.1 \
    Jinja2==2.10.3 \
    Click==7.0 \
    click-completion==0.5.1 \
    tabulate==0.8.2 \
    raven==6.7.0 \
    pathlib==1.0.1 \
    python-dateutil==2.9.0.post0 \
    Unipath==1.1 \
    certifi==2024.8.30 \
    idna==3.10 \
    charset-normalizer==3.4.0 \
    pytz==2024.2 \
    six==1.17.0 \
    PyYAML==6.0.2 \
    numpy==1.26.4 \
    psutil==7.0.0 \
    requests==2.32.3 \
    urllib3==2.2.3 \
    requests-toolbelt==1.0.0 \
    websocket-client==1.8.0 \
    docker==4.1.0 \
    shellingham==1.5.4

# The 0.6.x packages do `from collections import Mapping`; Python 3.10 removed those
# aliases. A .pth line runs at interpreter start-up, before any client import.
SITE="$("$DIR/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cat > "$SITE/zz_collections_abc_compat.pth" <<'PTH'
import collections, collections.abc; exec("for _n in collections.abc.__all__:\n    if not hasattr(collections, _n): setattr(collections, _n, getattr(collections.abc, _n))")
PTH

if ! check; then
    echo "client-venv: $DIR was built but polyaxon_client / polyaxon does not import" >&2
    "$DIR/bin/python" -c "from polyaxon_client.client import PolyaxonClient" >&2 || true
    exit 1
fi
echo "client-venv: ready at $DIR"
