"""Control of a search on the distributed runner (a RUNNER=celery scheduler and two Celery
workers, tests/support/celery_cluster.py): pause, resume and retry; an experiment's resume and
copy writing where their strategy says."""

from tests.support.control_runs import pause_resume_retry
from tests.support.runs import experiments_of


def test_resume_and_copy_on_celery_workers_write_where_the_strategy_says(
    app, cluster, client, tmp_path
):
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

    record = tmp_path / "records" / "record.jsonl"
    project, headers = clone_project(app)
    group = clone_group(project, record)
    finished(group.id)
    first = experiments_of(group.id)[0].id
    original = folder(app, group.id, first) / "outputs"

    resumed = clone(client, headers, first, "resume", group.id)
    copied = clone(client, headers, first, "copy", group.id)

    assert record_of(record, resumed)["outputs"] == str(original)
    assert record_of(record, resumed)["before"] == f"written by {first}\n"
    assert (original / NOTES).read_text() == f"written by {first}\nwritten by {resumed}\n"
    log = folder(app, group.id, resumed) / "logs" / "output.log"
    assert f"hello from {resumed}" in log.read_text()
    assert record_of(record, copied)["before"] == (original / NOTES).read_text()
    assert record_of(record, copied)["outputs"] == str(folder(app, group.id, copied) / "outputs")
    assert intruders(app, group.id) == []


def test_pause_holds_sends_resume_goes_on_and_retry_reruns_failures_on_celery(
    project_with_code, cluster, tmp_path
):
    pause_resume_retry(project_with_code, tmp_path / "records" / "control.jsonl")
