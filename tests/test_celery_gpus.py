"""GPU placement with Celery: workers heartbeat their declared ids (WORKER_GPUS) to Redis, the
scheduler places each experiment on one worker's free ids and sends it to that worker's own
queue. Two workers of one GPU each: at most two run at once, never one id twice, each on the
worker whose ids it was given; a group asking two GPUs waits and its page says why."""

import uuid

import pytest

from tests.factories import make_group
from tests.support.celery_cluster import CeleryWorker
from tests.support.gpus import check_logs_name_stored_ids, gpu_polyaxonfile, shared_ids
from tests.support.processes import stop_and_show
from tests.support.runs import experiments_of, group_status, max_overlap, wait_for
from tests.support.web import sign_in, soup


@pytest.fixture
def gpu_cluster(live_server, celery_settings, scheduler, tmp_path):
    """The scheduler and two Celery workers declaring GPU 0 and GPU 1 (one raw celery worker,
    one through `flask worker --celery`)."""
    scheduler()
    tag = uuid.uuid4().hex[:6]
    machines = [
        CeleryWorker(
            live_server,
            {**celery_settings, "WORKER_GPUS": str(index)},
            tmp_path / machine,
            f"{machine}-{tag}@localhost",
            wrapper=index == 1,
        )
        for index, machine in enumerate(("alpha", "beta"))
    ]
    yield machines
    stop_and_show(machines)


def test_one_gpu_experiments_on_two_one_gpu_workers_run_two_at_once_on_their_workers_ids(
    project_with_code, gpu_cluster, tmp_path
):
    record = tmp_path / "records" / "record.jsonl"
    group = make_group(
        project_with_code, content=gpu_polyaxonfile(record, 1, n=6, concurrency=4, sleep=1)
    )
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the group to finish")
    assert group_status(group.id) == "succeeded"
    assert max_overlap(record) == 2
    assert shared_ids(record) == []
    given = check_logs_name_stored_ids(group.id, tmp_path / "outputs")
    alpha, beta = (machine.name for machine in gpu_cluster)
    assert {(g["worker"], tuple(g["ids"])) for g in given.values()} == {(alpha, (0,)), (beta, (1,))}
    # Each ran on the worker whose id it was given.
    assert all(e.worker == e.gpus["worker"] for e in experiments_of(group.id))


def test_two_gpu_experiments_wait_on_one_gpu_workers_and_the_page_says_why(
    project_with_code, gpu_cluster, tmp_path, client
):
    record = tmp_path / "records" / "record.jsonl"
    waiting = make_group(project_with_code, content=gpu_polyaxonfile(record, 2, n=2))
    plain = make_group(project_with_code, content=gpu_polyaxonfile(record, 0, n=2))
    wait_for(lambda: group_status(plain.id) == "succeeded", "the group without GPUs to finish")
    sign_in(client, "alice", "secret-pw")
    page = wait_for(
        lambda: soup(client.get(f"/alice/demo/groups/{waiting.id}/")).select_one(
            "#group-gpus-waiting"
        ),
        "the page to know both workers",
    )
    assert page.text == "waiting: needs 2 GPUs, the largest worker has 1"
    assert [e.status for e in experiments_of(waiting.id)] == ["created", "created"]
    check_logs_name_stored_ids(plain.id, tmp_path / "outputs")  # CUDA_VISIBLE_DEVICES=''
