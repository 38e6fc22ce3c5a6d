"""Real concurrent HTTP requests against a real server: no 500s, no lost or duplicated rows."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import func, select, text

from dashboard.extensions import db
from dashboard.models import (
    Bookmark,
    Experiment,
    ExperimentMetric,
    ExperimentStatus,
    GroupEvent,
    GroupStatus,
    Worker,
)
from dashboard.services.experiment import credentials
from tests.factories import auth, grid_yml, owner_with_group

THREADS = 16


def _run_all(calls):
    """Fire every (method, url, kwargs) call from a pool of threads at once; their responses."""

    def one(call):
        method, url, kwargs = call
        return requests.request(method, url, timeout=60, **kwargs)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(one, calls))


def _group_url(server, group, suffix):
    return f"{server.url}/api/v1/alice/demo/groups/{group.id}/{suffix}"


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app):
    if db.engine.dialect.name != "sqlite":
        assert db.engine.dialect.name == "postgresql"
        return
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_second_sqlite_writer_waits_for_the_first_instead_of_failing(app):
    if db.engine.dialect.name != "sqlite":
        assert db.engine.dialect.name == "postgresql"  # row locks wait there by design
        return
    insert = text(
        "INSERT INTO workers (name, host, pid, started_at, last_seen_at) "
        "VALUES (:name, 'h', 1, '2026-01-01', '2026-01-01')"
    )
    with db.engine.connect() as first, db.engine.connect() as second:
        first.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # holds the write lock
        first.execute(insert, {"name": "first"})
        releaser = threading.Timer(0.5, first.commit)
        releaser.start()
        began = time.monotonic()
        second.execute(insert, {"name": "second"})  # waits (busy timeout) rather than failing
        second.commit()
        waited = time.monotonic() - began
        releaser.join()
    assert waited >= 0.4
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Worker)) == 2


def test_fifty_concurrent_bookmark_toggles_leave_one_bookmark_at_most(live_server):
    owner = owner_with_group(grid_yml(4), "alice", "demo")
    calls = [
        ("POST", _group_url(live_server, owner.group, "bookmark/"), {"headers": auth(owner.key)})
        if i % 2 == 0
        else (
            "DELETE",
            _group_url(live_server, owner.group, "unbookmark/"),
            {"headers": auth(owner.key)},
        )
        for i in range(50)
    ]
    responses = _run_all(calls)
    codes = [(r.request.method, r.status_code) for r in responses]
    # Bookmarking is idempotent; unbookmarking what is not (or no longer) there is a 404.
    assert set(codes) <= {("POST", 201), ("DELETE", 204), ("DELETE", 404)}, codes
    db.session.expire_all()
    count = db.session.scalar(select(func.count()).select_from(Bookmark))
    assert count in (0, 1)
    listed = requests.get(
        f"{live_server.url}/api/v1/bookmarks/alice/groups/", headers=auth(owner.key), timeout=30
    ).json()
    assert listed["count"] == count
    # Every successful unbookmark removed a bookmark a bookmark made: the events pair up.
    kinds = db.session.scalars(select(GroupEvent.kind).order_by(GroupEvent.id)).all()
    assert kinds.count("unbookmark") == codes.count(("DELETE", 204))
    assert kinds.count("bookmark") - kinds.count("unbookmark") == count


def test_concurrent_stops_of_a_group_make_each_transition_once(live_server):
    owner = owner_with_group(grid_yml(6), "alice", "demo")
    # Two experiments "run" (a worker claimed them), so the group goes stopping, not stopped.
    experiments = db.session.scalars(
        select(Experiment).where(Experiment.group_id == owner.group.id).order_by(Experiment.id)
    ).all()
    owner.group.status = "running"
    db.session.add(GroupStatus(group_id=owner.group.id, status="running"))
    for experiment in experiments[:2]:
        experiment.status = "running"
    db.session.commit()
    calls = [
        ("POST", _group_url(live_server, owner.group, "stop/"), {"headers": auth(owner.key)})
    ] * 30
    responses = _run_all(calls)
    assert [r.status_code for r in responses] == [200] * 30
    db.session.expire_all()
    statuses = db.session.scalars(
        select(GroupStatus.status)
        .where(GroupStatus.group_id == owner.group.id)
        .order_by(GroupStatus.id)
    ).all()
    assert statuses == ["created", "running", "stopping"]
    stopped = db.session.scalars(
        select(ExperimentStatus.experiment_id).where(ExperimentStatus.status == "stopped")
    ).all()
    assert sorted(stopped) == sorted(e.id for e in experiments[2:])  # once each
    running = db.session.scalars(select(Experiment).where(Experiment.status == "running")).all()
    assert len(running) == 2 and all(e.stop_requested_at for e in running)


def test_concurrent_stops_of_experiments_make_one_transition_each(live_server):
    owner = owner_with_group(grid_yml(5), "alice", "demo")
    ids = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == owner.group.id).order_by(Experiment.id)
    ).all()
    calls = [
        (
            "POST",
            f"{live_server.url}/api/v1/alice/demo/experiments/{i}/stop/",
            {"headers": auth(owner.key)},
        )
        for i in ids
        for _ in range(6)
    ]
    responses = _run_all(calls)
    assert [r.status_code for r in responses] == [200] * len(calls)
    db.session.expire_all()
    rows = db.session.execute(
        select(ExperimentStatus.experiment_id, ExperimentStatus.status).order_by(
            ExperimentStatus.id
        )
    ).all()
    for experiment_id in ids:
        assert [s for i, s in rows if i == experiment_id] == ["created", "stopped"]


def _running_experiment(group):
    experiment = db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).first()
    group.status = "running"
    db.session.add(GroupStatus(group_id=group.id, status="running"))
    for status in ("scheduled", "starting", "running"):
        db.session.add(ExperimentStatus(experiment_id=experiment.id, status=status))
    experiment.status = "running"
    key = credentials.issue_experiment_token(experiment)
    db.session.commit()
    return experiment, key


def test_concurrent_metric_posts_keep_every_row_in_order(live_server):
    owner = owner_with_group(grid_yml(2), "alice", "demo")
    experiment, key = _running_experiment(owner.group)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    url = f"{live_server.url}/api/v1/alice/demo/experiments/{experiment.id}/metrics/"
    calls = [
        (
            "POST",
            url,
            {
                "headers": auth(key),
                "json": {
                    "values": {"step": i, f"only_{i % 3}": i},
                    "created_at": (start + timedelta(seconds=i)).isoformat(),
                },
            },
        )
        for i in range(60)
    ]
    responses = _run_all(calls)
    assert [r.status_code for r in responses] == [201] * 60
    db.session.expire_all()
    steps = db.session.scalars(
        select(ExperimentMetric.values)
        .where(ExperimentMetric.experiment_id == experiment.id)
        .order_by(ExperimentMetric.created_at, ExperimentMetric.id)
    ).all()
    assert [row["step"] for row in steps] == list(range(60))
    # The latest of each name wins, whatever order the reports arrived in.
    assert db.session.get(Experiment, experiment.id).last_metric == {
        "step": 59,
        "only_0": 57,
        "only_1": 58,
        "only_2": 59,
    }
    listed = requests.get(url + "?limit=100", headers=auth(owner.key), timeout=30).json()
    assert [row["values"]["step"] for row in listed["results"]] == list(range(60))
    shown = requests.get(
        f"{live_server.url}/api/v1/alice/demo/experiments/{experiment.id}/",
        headers=auth(owner.key),
        timeout=30,
    ).json()
    assert shown["last_metric"]["step"] == 59


def test_concurrent_status_posts_keep_every_row_in_order(live_server):
    owner = owner_with_group(grid_yml(2), "alice", "demo")
    experiment, key = _running_experiment(owner.group)
    url = f"{live_server.url}/api/v1/alice/demo/experiments/{experiment.id}/statuses/"
    # An admin's repeated status is appended every time, until the experiment itself posts
    # its final status: after that "running" is no transition (a 400, and no row).
    calls = [
        (
            "POST",
            url,
            {"headers": auth(owner.key), "json": {"status": "running", "message": f"beat {i}"}},
        )
        for i in range(40)
    ]
    calls.insert(20, ("POST", url, {"headers": auth(key), "json": {"status": "succeeded"}}))
    responses = _run_all(calls)
    final = responses.pop(20)
    assert final.status_code == 201 and final.json()["status"] == "succeeded"
    codes = [r.status_code for r in responses]
    assert set(codes) <= {201, 400}, codes
    db.session.expire_all()
    rows = db.session.scalars(
        select(ExperimentStatus)
        .where(ExperimentStatus.experiment_id == experiment.id)
        .order_by(ExperimentStatus.id)
    ).all()
    statuses = [row.status for row in rows]
    assert statuses.count("succeeded") == 1 and statuses[-1] == "succeeded"
    beats = [row.message for row in rows if row.message and row.message.startswith("beat")]
    assert sorted(beats) == sorted(
        f"beat {i}" for i, r in enumerate(responses) if r.status_code == 201
    )
    assert [row.created_at for row in rows] == sorted(row.created_at for row in rows)
    assert db.session.get(Experiment, experiment.id).status == "succeeded"
    listed = requests.get(url + "?limit=100", headers=auth(owner.key), timeout=30).json()
    assert [r["status"] for r in listed["results"]] == statuses
