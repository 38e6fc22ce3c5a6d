"""A search paused, resumed and retried while a real runner (the local worker or the Celery
scheduler and its workers) runs it: shared by the runner suites."""

import time

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import GroupStatus, User
from dashboard.services.group import control
from dashboard.services.project.access import project_access
from tests.factories import make_group
from tests.support.runs import experiments_of, group_status, polyaxonfile, started, wait_for

# Long enough for a few rounds of the scheduler (it looks twice a second): had the pause let
# anything through, it would have started by then.
HELD_FOR = 2.5


def _access(project):
    alice = db.session.scalar(select(User).where(User.username == "alice"))
    return project_access("alice", project.name, actor=alice)


def pause_resume_retry(project, record):
    """Run a search of 3 experiments, one at a time, each failing on its first run: pause it
    while the first runs, see nothing else start, resume it to its end (every one failed), then
    retry it to success. Returns the group."""
    group = make_group(
        project,
        content=polyaxonfile(record, n=3, concurrency=1, sleep=1.0, fail_first=True),
    )
    wait_for(lambda: len(started(record)) == 1, "the first experiment to start")
    control.pause_group(_access(project), group.id)
    first = experiments_of(group.id)[0]
    wait_for(lambda: experiments_of(group.id)[0].status == "failed", "the first to fail")
    time.sleep(HELD_FOR)
    assert len(started(record)) == 1, "an experiment started in a paused group"
    assert [e.status for e in experiments_of(group.id)] == ["failed", "created", "created"]
    assert group_status(group.id) == "paused"

    control.resume_group(_access(project), group.id)
    wait_for(lambda: group_status(group.id) == "failed", "the group to fail")
    originals = experiments_of(group.id)
    assert [e.status for e in originals] == ["failed"] * 3

    retried = control.retry_group(_access(project), group.id)
    assert len(retried) == 3
    wait_for(lambda: group_status(group.id) == "succeeded", "the retried group to succeed")
    rows = {e.id: e for e in experiments_of(group.id)}
    for clone_id, original in zip(retried, originals, strict=True):
        clone = rows[clone_id]
        assert clone.status == "succeeded" and clone.params == original.params
        assert (clone.original_experiment_id, clone.cloning_strategy) == (original.id, "restart")
    assert first.id == originals[0].id
    history = db.session.execute(
        select(GroupStatus.status, GroupStatus.message)
        .where(GroupStatus.group_id == group.id)
        .order_by(GroupStatus.id)
    ).all()
    assert [status for status, _ in history] == [
        "created",
        "running",
        "paused",
        "running",
        "failed",
        "running",
        "succeeded",
    ]
    assert history[2][1] == "Paused by alice." and history[4][1] == "Every experiment failed."
    assert history[5][1] == "Running again: 3 experiments retried by alice."
    return group
