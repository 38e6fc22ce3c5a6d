"""Placing experiments on GPUs: the pure choice, claims that hold ids in the database, the
experiment's environment and its sandbox's device files (no GPU needed: declared ids are enough)."""

from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.models import Experiment, Worker
from dashboard.models.types import utcnow
from dashboard.runner import executor
from dashboard.runner.gpus import parse_gpus
from dashboard.runner.sandbox import Sandbox, gpu_devices
from dashboard.services.run import claims
from dashboard.services.run.placement import GpuPool, place
from tests.factories import make_group as create_group
from tests.factories import make_project, make_user, start_group
from tests.support.web import sign_in, soup

GPU_GROUP = """\
version: 1
kind: group
hptuning:
  concurrency: {concurrency}
  grid_search: {{n_experiments: 6}}
  matrix:
    x: {{values: [1, 2, 3, 4, 5, 6]}}
environment: {{resources: {{gpu: {{requests: {gpus}, limits: {gpus}}}}}}}
run:
  cmd: python3 train.py --x={{{{ x }}}}
"""


# ---- the pure choice ---------------------------------------------------------------------


def test_place_takes_the_lowest_free_ids_of_the_tightest_worker_that_fits():
    free = {"big": [0, 1, 2, 3], "small": [5, 7], "tiny": [9]}
    assert place(2, free) == ("small", [5, 7])
    assert place(1, free) == ("tiny", [9])
    assert place(4, free) == ("big", [0, 1, 2, 3])


def test_place_answers_none_when_no_worker_has_enough_free_ids():
    assert place(3, {"a": [0, 1], "b": [2]}) is None
    assert place(1, {}) is None


def test_declared_ids_are_parsed_sorted_once_each_and_bad_ones_named():
    assert parse_gpus("3, 1,1,0") == [0, 1, 3]
    assert parse_gpus("") == []
    try:
        parse_gpus("0,gpu1")
    except ValueError as exc:
        assert "'gpu1'" in str(exc)
    else:
        raise AssertionError("gpu1 was accepted")


# ---- claims hold ids in the database -------------------------------------------------------


def gpu_group(app, *, gpus=1, concurrency=4):
    project = make_project(make_user("alice"), "demo")
    group = create_group(project, content=GPU_GROUP.format(gpus=gpus, concurrency=concurrency))
    start_group(group)
    return group


def worker_row(name, host, gpus):
    now = utcnow()
    db.session.add(Worker(name=name, host=host, pid=0, started_at=now, last_seen_at=now, gpus=gpus))
    db.session.commit()


def pool_of(**declared):
    return GpuPool(declared)


def placed(group):
    db.session.expire_all()
    return {
        e.id: e.gpus
        for e in db.session.scalars(select(Experiment).where(Experiment.group_id == group.id))
        if e.status in ("scheduled", "starting", "running")
    }


def test_claims_place_each_experiment_on_free_ids_and_no_more_than_the_ids(app):
    group = gpu_group(app)
    worker_row("w", "h", [0, 1])
    claimed = claims.claim_turns("w", 8, pool_of(w=[0, 1]))
    assert len(claimed) == 2  # concurrency 4, but two ids
    assert sorted(g["ids"][0] for g in placed(group).values()) == [0, 1]
    assert claims.claim_turns("w", 8, pool_of(w=[0, 1])) == []


def test_ids_come_free_when_their_experiment_ends_and_are_given_again(app):
    gpu_group(app)
    worker_row("w", "h", [0, 1])
    first, _ = claims.claim_turns("w", 8, pool_of(w=[0, 1]))[0]
    ids = db.session.get(Experiment, first).gpus["ids"]
    db.session.execute(update(Experiment).where(Experiment.id == first).values(status="succeeded"))
    db.session.commit()
    again = claims.claim_turns("w", 8, pool_of(w=[0, 1]))
    assert len(again) == 1
    assert db.session.get(Experiment, again[0][0]).gpus == {"worker": "w", "ids": ids}


def test_a_restarted_placer_keeps_the_ids_of_experiments_still_running(app):
    group = gpu_group(app)
    worker_row("w", "h", [0, 1])
    [(running, _)] = claims.claim_turns("w", 1, pool_of(w=[0, 1]))
    db.session.execute(update(Experiment).where(Experiment.id == running).values(status="running"))
    db.session.commit()
    # A new process (another claim name) placing on the same worker's ids.
    claims.claim_turns("w-restarted", 8, pool_of(w=[0, 1]))
    ids = [gpus["ids"] for gpus in placed(group).values()]
    assert sorted(ids) == [[0], [1]]


def test_an_experiment_asking_more_than_any_worker_has_stays_created(app):
    group = gpu_group(app, gpus=2)
    worker_row("w", "h", [0])
    assert claims.claim_turns("w", 8, pool_of(w=[0])) == []
    assert claims.claim_turns("w", 8, None) == []
    assert placed(group) == {}


def test_a_released_claim_gives_its_ids_back(app):
    group = gpu_group(app)
    worker_row("w", "h", [0, 1])
    ids = [experiment_id for experiment_id, _ in claims.claim_turns("w", 8, pool_of(w=[0, 1]))]
    claims.release("w", ids)
    assert placed(group) == {}
    assert all(db.session.get(Experiment, i).gpus is None for i in ids)


def test_group_page_says_what_a_group_asking_more_gpus_than_any_worker_waits_for(app, client):
    group = gpu_group(app, gpus=2)
    worker_row("w", "h", [0])
    sign_in(client, "alice")
    page = soup(client.get(f"/alice/demo/groups/{group.id}/"))
    assert page.select_one("#group-gpus-waiting").text == (
        "waiting: needs 2 GPUs, the largest worker has 1"
    )
    assert page.select_one("#group-resources").text == "GPU 2 per experiment"


def test_group_page_says_when_no_live_worker_declares_gpus(app, client):
    group = gpu_group(app, gpus=1)
    sign_in(client, "alice")
    page = soup(client.get(f"/alice/demo/groups/{group.id}/"))
    assert page.select_one("#group-gpus-waiting").text == (
        "waiting: needs 1 GPU, no live worker declares GPUs"
    )


# ---- what the experiment is given ----------------------------------------------------------


def test_sandbox_binds_the_device_files_of_the_given_ids_and_the_shared_ones_only(tmp_path):
    for name in ("nvidia0", "nvidia1", "nvidia2", "nvidiactl", "nvidia-uvm"):
        (tmp_path / name).touch()
    devices = gpu_devices({"CUDA_VISIBLE_DEVICES": "2,0"}, dev=str(tmp_path))
    assert devices == [str(tmp_path / n) for n in ("nvidia2", "nvidia0", "nvidiactl", "nvidia-uvm")]
    assert gpu_devices({"CUDA_VISIBLE_DEVICES": ""}, dev=str(tmp_path)) == []
    argv = Sandbox().command("true", outputs=tmp_path, devices=devices)
    bound = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--dev-bind"]
    assert bound == devices
    assert argv.index("--dev-bind") > argv.index("--dev")  # over the minimal /dev


def test_a_celery_worker_never_runs_a_job_placed_on_another_workers_ids(monkeypatch):
    finals = []
    monkeypatch.setattr(executor.Reporter, "final", lambda self, *args: finals.append(args))
    job = {
        "env": {"POLYAXON_API_URL": "http://127.0.0.1:9/x", "POLYAXON_TOKEN": "k"},
        "gpus": {"worker": "alpha@host", "ids": [0]},
    }
    common = {"outputs_root": "/nowhere", "grace": 1, "heartbeat": 1, "sandbox": None}
    assert executor.run_job(job, worker="beta@host", gpus=[0], **common) == "misplaced"
    assert executor.run_job(job, worker="alpha@host", gpus=[1], **common) == "misplaced"
    assert [status for status, _ in finals] == ["failed", "failed"]
    assert "placed on GPUs [0] of alpha@host" in finals[0][1]
