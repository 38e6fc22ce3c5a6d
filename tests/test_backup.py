"""`flask export` / `import`: a round trip into an empty database gives the same API and pages."""

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import (
    ApiToken,
    Experiment,
    ExperimentGroup,
    ExperimentStatus,
    GroupEvent,
    LoginSession,
    SearchIteration,
    TablePreference,
    TensorboardJob,
    TensorboardStatus,
    User,
)
from dashboard.services.experiment import experiment_table
from dashboard.services.project.access import project_access
from dashboard.services.run import advance, runs
from dashboard.services.user import login_sessions
from tests.factories import (
    RANDOM_YML,
    add_member,
    auth,
    first_experiment_id,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
    sign_in_cookie,
)
from tests.support.backup import first_database_url, run_cli
from tests.support.environment import ROOT

HYPERBAND = """\
version: 1
kind: group
hptuning:
  concurrency: 4
  hyperband: {max_iter: 3, eta: 3, resource: {name: epochs, type: int},
              metric: {name: loss, optimization: minimize}}
  seed: 1
  matrix:
    x: {range: [1, 100, 1]}
run:
  cmd: python3 train.py --x={{ x }} --epochs={{ epochs }}
"""

BO = """\
version: 1
kind: group
hptuning:
  concurrency: 2
  bo: {n_initial_trials: 3, n_iterations: 2, metric: {name: loss, optimization: minimize},
       utility_function: {acquisition_function: ei, eps: 0.01, n_warmup: 200, n_iter: 2}}
  seed: 3
  matrix:
    x: {range: [1, 100, 1]}
    lr: {linspace: 0.001:0.1:5}
run:
  cmd: python3 train.py --x={{ x }}
"""

# Flask-WTF's signed CSRF tokens differ per session: the only part masked before comparing.
CSRF = re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}")
SERVER_NOW = re.compile(r'data-server-now="[^"]*"')
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _loss(params):
    return round(sum(v for v in params.values() if isinstance(v, (int, float))) % 7 + 0.5, 4)


def _run_groups(client, key):
    """Drive every group to its end in-process: the worker's own services, no processes."""
    for _ in range(60):
        advance.advance_groups()
        claimed = runs.claim_experiments("backup-test", 100)
        for experiment_id in claimed:
            runs.mark(experiment_id, "starting")
            experiment = runs.mark(experiment_id, "running", pid=None)
            group = db.session.get(ExperimentGroup, experiment.group_id)
            project = "private" if group.name == "bo" else "demo"
            url = f"/api/v1/alice/{project}/experiments/{experiment_id}/metrics/"
            loss = _loss(experiment.params)
            reports = [
                {
                    "values": {"loss": loss * 2, "accuracy": 0.5, "epoch": 0},
                    "created_at": (START + timedelta(minutes=experiment_id)).isoformat(),
                },
                {"values": {"loss": loss, "accuracy": 1 / (1 + loss), "epoch": 1}},
            ]
            response = client.post(url, json=reports, headers=auth(key))
            assert response.status_code == 201, response.get_json()
            if experiment_id % 9 == 4:
                runs.mark(experiment_id, "failed", "Exit code 3.\nboom")
            else:
                runs.mark(experiment_id, "succeeded")
        db.session.expire_all()
        if not claimed and not db.session.scalar(
            select(func.count())
            .select_from(ExperimentGroup)
            .where(ExperimentGroup.status.in_(("created", "running", "stopping")))
        ):
            return
    raise AssertionError("the groups did not finish")


def _fill(client):
    """Users, projects, members, a group of each algorithm run to the end, and user traces."""
    alice = make_user("alice", "pw-alice")
    bob = make_user("bob", "pw-bob")
    make_user("root", "pw-root", staff=True)
    key = make_token(alice)
    make_token(bob)
    demo = make_project(alice, "demo")
    private = make_project(alice, "private", public=False)
    add_member(private, bob, "viewer")
    add_member(demo, bob, "member")
    random_group = make_group(demo, content=RANDOM_YML, description="The reference page's")
    grid = make_group(demo, content=grid_yml(3), name="grid", tags=["small"])
    make_group(demo, content=HYPERBAND, name="hb")
    bo = make_group(private, content=BO, name="bo")
    stopped = make_group(demo, content=grid_yml(4), name="stopped-early")
    assert (
        client.post(f"/api/v1/alice/demo/groups/{stopped.id}/stop/", headers=auth(key)).status_code
        == 200
    )
    notes = {"markdown": "# Plan\n\n- [docs](https://example.com)", "version": 0}
    for target in (f"groups/{grid.id}", f"experiments/{first_experiment_id(grid)}"):
        url = f"/api/v1/alice/demo/{target}/notes/"
        assert client.put(url, json=notes, headers=auth(key)).status_code == 200
    _run_groups(client, key)
    for group in (random_group, bo):
        project = "private" if group is bo else "demo"
        assert (
            client.post(
                f"/api/v1/alice/{project}/groups/{group.id}/bookmark/", headers=auth(key)
            ).status_code
            == 201
        )
    assert (
        client.put(
            f"/api/v1/alice/demo/groups/{grid.id}/objective/",
            headers=auth(key),
            json={"metric": "accuracy", "optimization": "maximize"},
        ).status_code
        == 200
    )
    experiment_table.save_columns(
        project_access("alice", "demo", actor=alice),
        random_group.id,
        ["status", "params.dropout", "metric.loss", "finished_at"],
    )
    job = TensorboardJob(
        project_id=random_group.project_id,
        group_id=random_group.id,
        user_id=alice.id,
        status="stopped",
        host="127.0.0.1",
        port=6006,
        path_secret="x" * 43,
        started_at=START,
        finished_at=START + timedelta(hours=1),
        last_used_at=START,
    )
    db.session.add(job)
    db.session.flush()
    for status, message in (("created", None), ("running", None), ("stopped", "Idle.")):
        db.session.add(
            TensorboardStatus(job_id=job.id, status=status, message=message, created_at=START)
        )
    db.session.add(
        GroupEvent(
            group_id=random_group.id,
            user_id=alice.id,
            kind="tensorboard",
            message="Started TensorBoard.",
            created_at=START,
        )
    )
    db.session.commit()
    login_sessions.start_session(alice)
    # Every kind of row is there.
    for model in (
        SearchIteration,
        TablePreference,
        TensorboardJob,
        GroupEvent,
        ApiToken,
        LoginSession,
    ):
        assert db.session.scalar(select(func.count()).select_from(model))
    failed = db.session.scalars(select(Experiment).where(Experiment.status == "failed")).all()
    assert failed
    return alice


def _flask(url, *args, check=True):
    env = dict(os.environ, DATABASE_URL=url, FLASK_CONFIG="testing", SECRET_KEY="test-secret")
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def _signed_in(flask_app, user_id):
    client = flask_app.test_client()
    sign_in_cookie(client, db.session.get(User, user_id))
    return client


def _urls():
    """Every API answer and page worth comparing, read from the first database."""
    groups = db.session.execute(select(ExperimentGroup.id, ExperimentGroup.project_id)).all()
    experiments = db.session.execute(select(Experiment.id, Experiment.group_id)).all()
    private_ids = {gid for gid, pid in groups if db.session.get(ExperimentGroup, gid).name == "bo"}
    project_of = {gid: "private" if gid in private_ids else "demo" for gid, _ in groups}
    api = [
        "/api/v1/alice/",
        "/api/v1/alice/demo/",
        "/api/v1/alice/private/",
        "/api/v1/users/",
        "/api/v1/bookmarks/alice/groups/",
        "/api/v1/alice/demo/groups/?limit=100",
        "/api/v1/alice/private/groups/",
    ]
    pages = ["/", "/alice/demo/", "/alice/private/"]
    for gid, _ in groups:
        base = f"/api/v1/alice/{project_of[gid]}/groups/{gid}"
        api += [
            f"{base}/",
            f"{base}/experiments/?limit=100",
            f"{base}/statuses/",
            f"{base}/timeline/",
            f"{base}/objective/",
            f"{base}/notes/",
            f"{base}/plots/",
            *(
                f"{base}/plots/{name}/"
                for name in ("metric", "parallel", "scatter", "hyperband", "bo", "importance")
            ),
        ]
        page = f"/alice/{project_of[gid]}/groups/{gid}"
        pages += [
            f"{page}/",
            f"{page}/?sort=-metric.loss&query=status:succeeded",
            f"{page}/plots",
            f"{page}/timeline",
            f"{page}/coverage",
        ]
    for eid, gid in experiments:
        base = f"/api/v1/alice/{project_of[gid]}/experiments/{eid}"
        api += [f"{base}/", f"{base}/statuses/", f"{base}/metrics/", f"{base}/notes/"]
    # The pages of the first and the last experiment of each group (every page costs time).
    for gid, _ in groups:
        ids = sorted(eid for eid, g in experiments if g == gid)
        pages += [
            f"/alice/{project_of[gid]}/groups/{gid}/experiments/{eid}/"
            for eid in sorted({ids[0], ids[-1]})
        ]
    return api, pages


def _answers(client, urls):
    out = {}
    for url in urls:
        response = client.get(url)
        text = CSRF.sub("CSRF", response.get_data(as_text=True))
        # The moment the page was served (durations that still grow tick from it).
        out[url] = (response.status_code, SERVER_NOW.sub('data-server-now="NOW"', text))
    return out


def test_export_then_import_into_an_empty_database_gives_the_same_api_and_pages(
    app, client, restored, tmp_path
):
    alice = _fill(client)
    backup = tmp_path / "backup.jsonl"
    _flask(first_database_url(), "export", str(backup))
    lines = backup.read_text().splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "dashboard-backup" and header["version"] == 1
    # Signed-in sessions are left out whole: a restored database has nobody signed in; the
    # counters the database keeps are rebuilt by its triggers as the experiments come in.
    left_out = (
        "alembic_version",
        "login_sessions",
        "group_status_changes",
        "group_status_counts",
        "group_versions",
    )
    assert header["tables"] == [t.name for t in db.metadata.sorted_tables if t.name not in left_out]
    records = [json.loads(line) for line in lines[1:]]
    assert {"table", "row"} == set(records[0])
    assert not [r for r in records if r["table"] == "login_sessions"]
    users = [r["row"] for r in records if r["table"] == "users"]
    assert users and all("password_hash" not in row for row in users)
    assert all("key_hash" not in r["row"] for r in records if r["table"] == "api_tokens")
    assert all("token_hash" not in r["row"] for r in records if r["table"] == "experiments")
    jobs = [r["row"] for r in records if r["table"] == "tensorboard_jobs"]
    assert jobs and all("path_secret" not in row for row in jobs)
    assert "T" in users[0]["created_at"]  # ISO datetimes

    result = _flask(restored.database_url, "import", str(backup))
    assert "Imported" in result.stderr

    api, pages = _urls()
    before_api = _answers(_signed_in(app, alice.id), api)
    before_pages = _answers(_signed_in(app, alice.id), pages)
    with restored.app_context():
        after_api = _answers(_signed_in(restored, alice.id), api)
        after_pages = _answers(_signed_in(restored, alice.id), pages)
        imported = db.session.scalars(select(User).order_by(User.id)).all()
        assert not any(
            u.check_password(p)
            for u, p in zip(imported, ("pw-alice", "pw-bob", "pw-root"), strict=True)
        )
        # Ids go on after the imported ones (PostgreSQL sequences were moved past them).
        last = db.session.scalar(select(func.max(ExperimentStatus.id)))
        row = ExperimentStatus(
            experiment_id=db.session.scalar(select(func.min(Experiment.id))), status="running"
        )
        db.session.add(row)
        db.session.commit()
        assert row.id > last
    assert [u for u, (code, _) in before_api.items() if code != 200] == []
    assert [u for u, (code, _) in before_pages.items() if code != 200] == []
    for url in api:
        assert after_api[url] == before_api[url], url
    for url in pages:
        assert after_pages[url] == before_pages[url], url


def test_import_refuses_a_database_that_is_not_empty(app, restored, tmp_path):
    make_user("alice")
    backup = tmp_path / "backup.jsonl"
    assert run_cli(app, "export", str(backup)).exit_code == 0
    assert run_cli(restored, "import", str(backup)).exit_code == 0
    second = run_cli(restored, "import", str(backup))
    assert second.exit_code == 1
    assert "The database is not empty" in second.stderr
    with restored.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_import_refuses_another_format_version_and_changes_nothing(app, restored, tmp_path):
    make_user("alice")
    backup = tmp_path / "backup.jsonl"
    assert run_cli(app, "export", str(backup)).exit_code == 0
    lines = backup.read_text().splitlines()
    header = json.loads(lines[0])
    backup.write_text("\n".join([json.dumps({**header, "version": 99}), *lines[1:]]) + "\n")
    result = run_cli(restored, "import", str(backup))
    assert result.exit_code == 1
    assert "format version 99 is not supported" in result.stderr
    # A broken row half-way rolls the whole import back.
    backup.write_text("\n".join([lines[0], *lines[1:], '{"table": "users", "row": 7}']) + "\n")
    result = run_cli(restored, "import", str(backup))
    assert result.exit_code == 1 and "the row is not an object" in result.stderr
    with restored.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
