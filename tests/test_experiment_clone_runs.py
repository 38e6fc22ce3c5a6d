"""Restart, resume and copy run by the real local worker, sandboxed: a resume appends to its
original's file in its original's folder (and can write nowhere else), a copy finds a copy in
its own folder, a restart an empty one (EXTENSIONS.md section 2)."""

from dashboard.extensions import db
from dashboard.models import Experiment
from tests.support.clone_runs import (
    NOTES,
    clone,
    clone_group,
    clone_project,
    finished,
    folder,
    intruders,
    record_of,
)
from tests.support.runs import experiments_of


def test_resume_copy_and_restart_find_their_outputs_where_the_strategy_says(
    app, workers, client, tmp_path
):
    record = tmp_path / "records" / "record.jsonl"
    project, headers = clone_project(app)
    group = clone_group(project, record)
    workers()
    finished(group.id)
    first, second = (e.id for e in experiments_of(group.id))
    original = folder(app, group.id, first) / "outputs"
    assert record_of(record, first)["before"] is None

    resumed = clone(client, headers, first, "resume", group.id)
    copied = clone(client, headers, first, "copy", group.id)
    restarted = clone(client, headers, first, "restart", group.id)

    resume = record_of(record, resumed)
    assert resume["outputs"] == str(original)
    assert resume["before"] == f"written by {first}\n"
    assert resume["wrote"] == []
    assert (original / NOTES).read_text() == f"written by {first}\nwritten by {resumed}\n"
    assert not (folder(app, group.id, resumed) / "outputs" / NOTES).exists()
    log = folder(app, group.id, resumed) / "logs" / "output.log"
    assert f"hello from {resumed}" in log.read_text()  # its log stays in its own folder
    copy = record_of(record, copied)
    assert copy["outputs"] == str(folder(app, group.id, copied) / "outputs")
    assert copy["before"] == (original / NOTES).read_text()
    assert (
        (folder(app, group.id, copied) / "outputs" / NOTES)
        .read_text()
        .endswith(f"written by {copied}\n")
    )
    assert (original / NOTES).read_text().count("written by") == 2  # the copy left it alone
    restart = record_of(record, restarted)
    assert (restart["before"], restart["listing"]) == (None, [])
    assert restart["outputs"] == str(folder(app, group.id, restarted) / "outputs")
    assert intruders(app, group.id) == []
    assert record_of(record, second)["wrote"] == []
    assert db.session.get(Experiment, resumed).code_upload_id is not None
