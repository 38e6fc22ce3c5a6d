"""Where the tests run: the repository, the published client's virtualenv, one temporary folder
per run (the app's instance folder, the SQLite database) and the database's URL.

conftest.py imports this before the app (the app reads the instance folder when imported), and
tests that need these values import them from here: one module, so one folder per run (a second
import of conftest.py would make a second folder and point the instance folder at it)."""

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENT_VENV = Path(os.environ.get("CLIENT_VENV", ROOT / ".venv-client"))
TMP = Path(tempfile.mkdtemp(prefix="dashboard-tests-"))
# Keep the tests' instance folder (demo password, SQLite file) out of the working tree.
os.environ["DASHBOARD_INSTANCE"] = str(TMP / "instance")
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{TMP / 'test.db'}"
