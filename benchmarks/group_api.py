"""Measures the group API at scale: SQL statements and time per request, by group size.

Usage: python benchmarks/group_api.py [SIZES...]   (default 10 2000 10000; SQLite in a temp dir,
or DATABASE_URL when set). Prints one line per size and request.
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
TMP = Path(tempfile.mkdtemp(prefix="dashboard-bench-"))
os.environ.setdefault("DASHBOARD_INSTANCE", str(TMP))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event  # noqa: E402

from config import TestingConfig  # noqa: E402
from dashboard import create_app  # noqa: E402
from dashboard.extensions import db  # noqa: E402
from dashboard.services.group.groups import create_group  # noqa: E402
from dashboard.services.project import projects  # noqa: E402
from dashboard.services.project.access import project_access  # noqa: E402
from dashboard.services.user import users  # noqa: E402


class BenchConfig(TestingConfig):
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or f"sqlite:///{TMP / 'bench.db'}"


def grid(n):
    values = ", ".join(str(i) for i in range(n))
    return (
        "version: 1\nkind: group\nhptuning:\n  matrix:\n"
        f"    x: {{values: [{values}]}}\nrun:\n  cmd: echo {{{{ x }}}}\n"
    )


def measure(client, url, headers, repeat=20):
    statements = []
    listener = lambda *args: statements.append(1)  # noqa: E731
    client.get(url, headers=headers)  # warm-up (token last-used refresh)
    event.listen(db.engine, "before_cursor_execute", listener)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.data
    event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements) / repeat, statistics.median(times) * 1000


def main(sizes):
    app = create_app(BenchConfig)
    with app.app_context():
        upgrade()
        owner = users.create_user(f"bench{int(time.time())}", "pw")
        key = users.create_token(owner)[1]
        project = projects.create_project(actor=owner, name="bench")
        access = project_access(owner.username, project.name, actor=owner)
        headers = {"Authorization": f"token {key}"}
        client = app.test_client()
        base = f"/api/v1/{owner.username}/bench"
        print(f"{'size':>6} {'request':<28} {'queries':>8} {'median ms':>10}")
        for size in sizes:
            start = time.perf_counter()
            group = create_group(access, content=grid(size))
            created = (time.perf_counter() - start) * 1000
            print(f"{size:>6} {'create group (service)':<28} {'':>8} {created:>10.1f}")
            for label, url in (
                ("GET group", f"{base}/groups/{group.id}/"),
                ("GET experiments (20)", f"{base}/experiments/?group={group.id}"),
                ("GET experiments sorted", f"{base}/experiments/?group={group.id}&sort=-params.x"),
                ("GET groups", f"{base}/groups/"),
            ):
                queries, ms = measure(client, url, headers)
                print(f"{size:>6} {label:<28} {queries:>8.0f} {ms:>10.2f}")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [10, 2000, 10000])
