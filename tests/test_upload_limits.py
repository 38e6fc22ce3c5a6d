"""Code uploads within bounds: the unpacked cap, the project's quota, pruning of old uploads,
and unpacking with no transaction open."""

import io
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, RepoUpload
from dashboard.models.types import utcnow
from dashboard.services.run import advance, runs
from dashboard.storage import paths
from tests.factories import (
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
    zeros_tarball,
)

URL = "/api/v1/alice/demo/repo/upload/"
MIB = 1024 * 1024


@pytest.fixture
def alice(app):
    """alice/demo and alice's token headers."""
    user = make_user("alice")
    project = make_project(user, "demo")
    return project, auth(make_token(user))


def _upload(client, headers, data):
    return client.put(
        URL,
        headers=headers,
        content_type="multipart/form-data",
        data={"repo": (io.BytesIO(data), "code.tar.gz"), "json": '{"sync": true}'},
    )


def _entries(folder):
    """Every file and folder below `folder`, relative to it."""
    folder = Path(folder)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def _upload_ids():
    db.session.expire_all()
    return db.session.scalars(select(RepoUpload.id).order_by(RepoUpload.id)).all()


def _code_folders(app):
    code = Path(app.config["OUTPUTS_ROOT"]) / "alice" / "demo" / "code"
    return sorted(int(p.name) for p in code.iterdir())


def test_the_default_unpacked_cap_is_at_most_256_mib(app):
    assert 0 < app.config["REPO_MAX_UNPACKED_BYTES"] <= 256 * MIB


@pytest.mark.parametrize("files", [1, 400], ids=["one-file", "many-files"])
def test_a_400_mib_upload_bomb_is_refused_and_leaves_nothing_behind(app, client, alice, files):
    _, headers = alice
    bomb = zeros_tarball(400 * MIB, files=files)

    response = _upload(client, headers, bomb)

    assert len(bomb) < MIB
    assert response.status_code == 400
    assert response.json["repo"][0].endswith(
        "the unpacked code is larger than the limit of 256 MiB per upload."
    )
    assert _upload_ids() == []
    assert _entries(app.config["OUTPUTS_ROOT"]) == []


def test_an_upload_over_the_project_quota_is_refused_naming_the_quota(app, client, alice):
    _, headers = alice
    app.config.update(REPO_PROJECT_QUOTA_BYTES=3000, REPO_KEEP_UPLOADS=3)
    first = _upload(client, headers, zeros_tarball(2000)).json["id"]

    response = _upload(client, headers, zeros_tarball(1500))

    assert response.status_code == 400
    assert response.json == {
        "repo": [
            "'zeros/0.bin': the unpacked code is larger than the 1000 bytes left in the project's "
            "code quota: it is 3000 bytes for all the uploads the project keeps, and its earlier "
            "uploads that stay (the latest ones, and those its running experiments use) hold "
            "2000 bytes."
        ]
    }
    assert _upload_ids() == [first]
    assert _code_folders(app) == [first]


def test_a_full_quota_refuses_before_unpacking(app, client, alice):
    _, headers = alice
    app.config.update(REPO_PROJECT_QUOTA_BYTES=2000, REPO_KEEP_UPLOADS=3)
    _upload(client, headers, zeros_tarball(2000))

    response = _upload(client, headers, zeros_tarball(1))

    assert response.status_code == 400
    assert response.json["repo"][0].startswith(
        "No room is left in the project's code quota: it is 2000 bytes"
    )
    assert len(_upload_ids()) == 1


def test_the_quota_counts_only_the_uploads_that_stay(app, client, alice):
    _, headers = alice
    app.config.update(REPO_PROJECT_QUOTA_BYTES=3000, REPO_KEEP_UPLOADS=1)
    _upload(client, headers, zeros_tarball(2000))

    response = _upload(client, headers, zeros_tarball(2000))

    assert response.status_code == 201
    assert _upload_ids() == [response.json["id"]]
    assert _code_folders(app) == [response.json["id"]]


def test_pruning_keeps_the_newest_uploads(app, client, alice):
    _, headers = alice
    app.config["REPO_KEEP_UPLOADS"] = 3

    ids = [_upload(client, headers, zeros_tarball(10)).json["id"] for _ in range(5)]

    assert _upload_ids() == ids[-3:]
    assert _code_folders(app) == ids[-3:]


def _age_uploads(ids_and_ages):
    for upload_id, age in ids_and_ages:
        db.session.get(RepoUpload, upload_id).created_at = utcnow() - age
    db.session.commit()


def _claim_one(project, created_ago):
    """A group of alice/demo with one experiment claimed by a worker, created `created_ago`."""
    group = make_group(project, content=grid_yml(1))
    advance.advance_groups()
    [experiment_id] = runs.claim_experiments("test-worker", 1)
    db.session.get(Experiment, experiment_id).created_at = utcnow() - created_ago
    db.session.commit()
    return group, experiment_id


def test_pruning_keeps_the_uploads_a_claimed_experiment_may_run_in(app, client, alice):
    project, headers = alice
    app.config["REPO_KEEP_UPLOADS"] = 2
    old, current = (_upload(client, headers, zeros_tarball(10)).json["id"] for _ in range(2))
    _age_uploads([(old, timedelta(hours=2)), (current, timedelta(hours=1))])
    _claim_one(project, created_ago=timedelta(minutes=30))

    newer = [_upload(client, headers, zeros_tarball(10)).json["id"] for _ in range(3)]

    # `current` was the latest when the experiment was made: it may run in it or a newer one.
    assert _upload_ids() == [current, *newer]
    assert _code_folders(app) == [current, *newer]


def test_uploads_are_pruned_once_their_experiments_finish(app, client, alice):
    project, headers = alice
    app.config["REPO_KEEP_UPLOADS"] = 2
    pinned = _upload(client, headers, zeros_tarball(10)).json["id"]
    _age_uploads([(pinned, timedelta(hours=1))])
    _, experiment_id = _claim_one(project, created_ago=timedelta(minutes=30))
    newer = [_upload(client, headers, zeros_tarball(10)).json["id"] for _ in range(2)]
    assert pinned in _upload_ids()

    runs.mark(experiment_id, "failed", "test")
    last = _upload(client, headers, zeros_tarball(10)).json["id"]

    assert _upload_ids() == [newer[-1], last]
    assert _code_folders(app) == [newer[-1], last]


def test_pruning_never_removes_code_registered_outside_the_project_folder(
    app, client, alice, tmp_path
):
    project, headers = alice
    app.config["REPO_KEEP_UPLOADS"] = 1
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "train.py").write_text("print(1)\n")
    db.session.add(
        RepoUpload(project_id=project.id, user_id=project.owner_id, path=str(elsewhere), size=9)
    )
    db.session.commit()

    latest = _upload(client, headers, zeros_tarball(10)).json["id"]

    assert _upload_ids() == [latest]
    assert (elsewhere / "train.py").exists()


def _staging(root):
    return list(Path(root).glob("alice/demo/code/" + paths.STAGING_PREFIX + "*"))


def _wait(condition, what, deadline=60):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_metrics_post_during_a_long_unpack_succeeds(app, alice, live_server):
    project, headers = alice
    experiment = db.session.scalars(
        select(Experiment).where(Experiment.group_id == make_group(project, content=grid_yml(1)).id)
    ).one()
    archive = zeros_tarball(200 * MIB, files=200)  # about 2 s to unpack
    root = live_server.env["OUTPUTS_ROOT"]
    answers = {}

    def upload():
        answers["upload"] = requests.put(
            live_server.url + URL,
            headers=headers,
            timeout=120,
            files={"repo": ("code.tar.gz", archive)},
            data={"json": '{"sync": true}'},
        )

    thread = threading.Thread(target=upload)
    thread.start()
    try:
        _wait(lambda: _staging(root) or not thread.is_alive(), "the unpack to start")
        metric = requests.post(
            f"{live_server.url}/api/v1/alice/demo/experiments/{experiment.id}/metrics/",
            headers=headers,
            json={"values": {"loss": 0.5}},
            timeout=30,
        )
        still_unpacking = bool(_staging(root))
    finally:
        thread.join(timeout=120)

    assert metric.status_code == 201, metric.text
    assert still_unpacking, "the unpack ended before the metric was answered"
    assert answers["upload"].status_code == 201, answers["upload"].text
    assert _staging(root) == []
