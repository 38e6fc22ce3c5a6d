"""Stopping or deleting a group while its experiments report: both finish, neither deadlocks.

A report locks its experiment's row, then writes its value rows, which reference the group; a
stop or a delete locks the group, then changes or removes its experiments. Run at the same
moment, each used to wait for the other (PostgreSQL found the cycle and failed one of them).
"""

import sys
import threading
import time
import traceback

import pytest
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup, ExperimentValue
from dashboard.services.group.groups import delete_group, stop_group
from dashboard.services.project.access import project_access
from tests.factories import grid_yml, move_experiments, owner_with_group, start_group


def _in_a_thread(app, owner, action, outcome):
    """Run the group action in a thread of its own, with its own session, as a request would."""

    def run():
        with app.app_context():
            try:
                action(project_access("alice", "demo", actor=owner.user))
                outcome.append("done")
            except Exception as exc:  # the test reports it
                outcome.append(exc)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_until_blocked(report, thread):
    """Until another session waits for a lock (PostgreSQL), or a moment (SQLite, whose writers
    queue on its one write lock); sooner if the action's thread ended (its outcome tells)."""
    if report.bind.dialect.name != "postgresql":
        time.sleep(0.5)
        return
    mine = report.execute(text("SELECT pg_backend_pid()")).scalar()
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> :me"
    )
    sessions = text(
        "SELECT pid, state, wait_event_type, wait_event, left(query, 120) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    end = time.monotonic() + 20
    # A connection of its own, outside the app's pool: the dump below must work even if the
    # pool had none left to give the action.
    engine = create_engine(report.bind.url, poolclass=NullPool)
    with engine.connect() as watcher:
        while watcher.execute(waiting, {"me": mine}).scalar() == 0 and thread.is_alive():
            if time.monotonic() > end:
                rows = watcher.execute(sessions).all()
                stack = traceback.format_stack(sys._current_frames().get(thread.ident))
                pytest.fail(
                    f"the group action never waited for the report; sessions: {rows}; "
                    f"app pool: {db.engine.pool.status()}; the action's thread at:\n"
                    + "".join(stack)
                )
            time.sleep(0.05)


def _report_while(app, owner, action):
    """Hold the first experiment as a report does, start the action, then write the report's
    value row and commit; the action's outcome."""
    group_id, first = owner.group.id, owner.experiments[0].id
    outcome = []
    with Session(db.engine) as report:
        report.execute(select(Experiment.id).where(Experiment.id == first).with_for_update())
        thread = _in_a_thread(app, owner, action, outcome)
        _wait_until_blocked(report, thread)
        row = {"experiment_id": first, "group_id": group_id, "kind": "metric", "name": "loss"}
        report.execute(insert(ExperimentValue).values(num_value=0.5, text_value="0.5", **row))
        report.commit()
    thread.join(30)
    db.session.expire_all()
    return outcome


@pytest.fixture
def running(app):
    owner = owner_with_group(grid_yml(2), "alice", "demo")
    start_group(owner.group)
    move_experiments(owner.group, 2, "running")
    return owner


def test_a_delete_waits_for_a_report_holding_an_experiment_and_both_finish(app, running):
    group_id = running.group.id

    outcome = _report_while(app, running, lambda access: delete_group(access, group_id))

    assert outcome == ["done"]
    assert db.session.get(ExperimentGroup, group_id) is None
    left = select(func.count()).select_from(Experiment).where(Experiment.group_id == group_id)
    assert db.session.scalar(left) == 0


def test_a_stop_waits_for_a_report_holding_an_experiment_and_both_finish(app, running):
    group_id = running.group.id

    outcome = _report_while(app, running, lambda access: stop_group(access, group_id))

    assert outcome == ["done"]
    assert db.session.get(ExperimentGroup, group_id).status == "stopping"
    experiments = db.session.scalars(select(Experiment).where(Experiment.group_id == group_id))
    assert all(e.stop_requested_at is not None for e in experiments)
    value = db.session.get(ExperimentValue, (running.experiments[0].id, "metric", "loss"))
    assert value.num_value == 0.5
