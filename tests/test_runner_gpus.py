"""The local worker places experiments on its declared GPUs (`--gpus`, WORKER_GPUS): at most
as many at once as it has ids, never one id to two running experiments, and a group asking
more GPUs than any worker has waits, saying so on its page. Declared ids, no GPU needed."""

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Worker
from tests.factories import make_group
from tests.support.gpus import (
    check_logs_name_stored_ids,
    gpu_polyaxonfile,
    gpu_timeline,
    shared_ids,
)
from tests.support.runs import (
    events,
    experiments_of,
    group_status,
    max_overlap,
    polyaxonfile,
    wait_for,
)
from tests.support.web import sign_in, soup


def test_four_concurrent_one_gpu_experiments_on_two_ids_run_two_at_a_time_on_distinct_ids(
    project_with_code, workers, tmp_path
):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(
        project_with_code, content=gpu_polyaxonfile(record, 1, n=6, concurrency=4, sleep=1)
    )
    workers(WORKER_GPUS="0,1")
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to finish")
    assert group_status(group.id) == "succeeded"
    assert max_overlap(record) == 2
    assert shared_ids(record) == []
    runs = gpu_timeline(record)
    assert len(runs) == 6
    assert {frozenset(ids) for _, _, ids in runs} == {frozenset({"0"}), frozenset({"1"})}
    assert all(e["nvidia"] == e["gpus"] for e in events(record) if e["event"] == "start")
    given = check_logs_name_stored_ids(group.id, tmp_path / "outputs")
    assert {len(gpus["ids"]) for gpus in given.values()} == {1}


def test_group_asking_more_gpus_than_the_worker_has_waits_and_its_page_says_why(
    project_with_code, workers, tmp_path, client
):
    record = tmp_path / "records" / "record.jsonl"
    other = tmp_path / "records" / "other.jsonl"
    waiting = make_group(project_with_code, content=gpu_polyaxonfile(record, 2, n=2))
    plain = make_group(project_with_code, content=polyaxonfile(other, n=2, note_gpus=True))
    workers(WORKER_GPUS="0")
    wait_for(lambda: group_status(plain.id) == "succeeded", "the group without GPUs to finish")
    # It ran with no GPU visible; the other group's experiments were never placed.
    assert {e["gpus"] for e in events(other) if e["event"] == "start"} == {""}
    assert [e.status for e in experiments_of(waiting.id)] == ["created", "created"]
    assert events(record) == []
    assert db.session.scalars(select(Worker.gpus)).all() == [[0]]
    sign_in(client, "alice", "secret-pw")
    page = soup(client.get(f"/alice/demo/groups/{waiting.id}/"))
    assert page.select_one("#group-gpus-waiting").text == (
        "waiting: needs 2 GPUs, the largest worker has 1"
    )


def test_two_workers_of_one_machine_never_give_its_ids_twice(project_with_code, workers, tmp_path):
    # Both declare the machine's GPUs 0 and 1: they place on them in turn, never both at once.
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(
        project_with_code, content=gpu_polyaxonfile(record, 1, n=8, concurrency=4, sleep=1)
    )
    workers(WORKER_GPUS="0,1")
    workers(WORKER_GPUS="0,1")
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to finish")
    assert group_status(group.id) == "succeeded"
    assert max_overlap(record) == 2
    assert shared_ids(record) == []
