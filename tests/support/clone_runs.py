"""Restart, resume and copy run by a real runner: an experiment that notes what it finds in its
outputs, appends to a file there and tries to write into every other experiment's folder."""

import json
from pathlib import Path

from dashboard.extensions import db
from dashboard.models import User
from dashboard.storage import paths
from tests.factories import alice_project_with_code, auth, make_group, make_token
from tests.support.runs import events, experiments_of, group_status, wait_for

NOTES = "notes.txt"

# What each run records (in the test's records folder, writable in the sandbox): its outputs
# folder, the notes it found there, the files there, and which writes outside it succeeded.
CLONE_PY = """\
import json, os, pathlib
params = json.loads(os.environ["POLYAXON_PARAMS"])
me = int(os.environ["POLYAXON_EXPERIMENT_ID"])
out = pathlib.Path(os.environ["POLYAXON_RUN_OUTPUTS_PATH"])
print("hello from", me, flush=True)
notes = out / "notes.txt"
before = notes.read_text() if notes.exists() else None
listing = sorted(p.name for p in out.iterdir())
with open(notes, "a") as handle:
    handle.write(f"written by {me}\\n")
experiments = out.parent.parent
wrote = []
for other in range(1, me + 5):
    for target in (experiments / str(other) / "outputs", experiments / str(other)):
        if target == out:
            continue
        try:
            (target / f"intruder-{me}").write_text("x")
            wrote.append(str(target))
        except OSError:
            pass
record = {"id": me, "outputs": str(out), "before": before, "listing": listing, "wrote": wrote}
with open(params["record"], "a") as handle:
    handle.write(json.dumps(record) + "\\n")
"""


def clone_project(app):
    """alice/demo with clone.py as its code; returns (project, API headers)."""
    project = alice_project_with_code(app.config, {"clone.py": CLONE_PY})
    return project, auth(make_token(db.session.get(User, project.owner_id)))


def clone_group(project, record):
    """Two experiments (x 1 and 2) running clone.py, both at once."""
    content = (
        "version: 1\nkind: group\nhptuning:\n  concurrency: 2\n  matrix:\n"
        f"    x: {{values: [1, 2]}}\nparams: {json.dumps({'record': str(record)})}\n"
        "run:\n  cmd: python3 clone.py\n"
    )
    return make_group(project, content=content)


def finished(group_id):
    wait_for(
        lambda: group_status(group_id) in ("succeeded", "failed", "stopped"), "the group to end"
    )
    assert group_status(group_id) == "succeeded", [
        (e.id, e.status) for e in experiments_of(group_id)
    ]


def clone(client, headers, experiment_id, strategy, group_id):
    """POST experiments/{id}/<strategy>/ and wait until its group has run it: its record."""
    response = client.post(
        f"/api/v1/alice/demo/experiments/{experiment_id}/{strategy}/", json={}, headers=headers
    )
    assert response.status_code == 201, response.json
    finished(group_id)
    return response.json["id"]


def record_of(record, experiment_id):
    (found,) = [e for e in events(record) if e["id"] == experiment_id]
    return found


def folder(app, group_id, experiment_id):
    return paths.experiment_dir(app.config, "alice", "demo", group_id, experiment_id)


def intruders(app, group_id):
    """Every file an experiment wrote outside its outputs folder, below the group's folder."""
    root = paths.group_dir(app.config, "alice", "demo", group_id)
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("intruder-*"))
