"""Experiments run within limits of CPU priority, memory, processes and disk: real sandboxed
processes started as both runners start them (process.start_experiment), and a memory hog under
a real worker beside another project's experiment."""

import os
import time
import uuid

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup, ExperimentStatus
from dashboard.runner import cgroups, executor
from dashboard.runner.limits import Limits
from dashboard.runner.process import end_experiment, exit_message, start_experiment
from dashboard.runner.sandbox import Sandbox
from tests.factories import make_group, make_project, make_user
from tests.support.processes import processes_with

DEADLINE = 60  # the hang guard of every wait below
# A uid of this run's own: RLIMIT_NPROC counts every process of the uid, and other test runs
# on this machine run their experiments as 65534.
PRIVATE_UID = 200000 + os.getpid() % 100000
HOG = "chunks = [bytearray(16 << 20) for _ in range(64)]"  # 1 GiB at most, touched
FORK_BOMB = """
import os, sys, time
children = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(300)
            os._exit(0)
        children += 1
except OSError as exc:
    print(f"{children} children, then: {exc}", flush=True)
sys.exit(1)
"""


def grid(cmd):
    return (
        "version: 1\nkind: group\nhptuning:\n  concurrency: 1\n  matrix:\n"
        f"    x: {{values: [1]}}\nrun:\n  cmd: {cmd}\n"
    )


def wait_for(condition, what):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        db.session.expire_all()
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def final_message(group):
    experiment = db.session.scalars(select(Experiment).where(Experiment.group_id == group.id))
    experiment = experiment.one()
    message = db.session.scalars(
        select(ExperimentStatus.message)
        .where(ExperimentStatus.experiment_id == experiment.id)
        .order_by(ExperimentStatus.id.desc())
    ).first()
    return experiment.status, message


def test_a_memory_hog_fails_with_the_memory_message_while_another_projects_runs_on(
    app, live_server, workers
):
    hog = make_group(make_project(make_user("alice"), "hog"), content=grid(f"python3 -c '{HOG}'"))
    calm = make_group(make_project(make_user("bob"), "calm"), content=grid("echo calm"))
    workers(EXPERIMENT_MEMORY_MB=64, WORKER_CAPACITY=2)

    def finished():
        groups = [db.session.get(ExperimentGroup, g.id) for g in (hog, calm)]
        return all(g.status in ("succeeded", "failed") for g in groups)

    wait_for(finished, "both groups to finish")
    status, message = final_message(hog)
    assert status == "failed"
    assert message.startswith("The experiment exceeded its memory limit of 64 MiB.")
    assert final_message(calm)[0] == "succeeded"


def _left(marker, grace=5):
    """What of a run is still alive once the kernel has had `grace` seconds to reap what its
    end killed (on a loaded machine, the dozens of a fork bomb's processes die one by one)."""
    end = time.monotonic() + grace
    while (left := processes_with(marker)) and time.monotonic() < end:
        time.sleep(0.1)
    return left


@pytest.fixture
def run(tmp_path):
    """Runs a command in a sandbox with these limits until it ends (60 s at the most), and
    returns its exit message, the cgroup folders it had and what of it is left running."""
    started = []

    def start(command, *, script="", uid=65534, **limits):
        code = tmp_path / "code"
        code.mkdir(exist_ok=True)
        (code / "script.py").write_text(script)
        marker = f"LIMITS_TEST={uuid.uuid4().hex}"
        sandbox = Sandbox(uid=uid, gid=uid, limits=Limits(**limits))
        folder = tmp_path / f"xp{len(started)}"
        env = dict([marker.split("="), ("OUTPUTS", str(folder / "outputs"))])
        process = start_experiment(sandbox, command, folder=folder, code=code, env=env)
        started.append(process)
        cgroup = process.limits.cgroup
        folders = set(cgroup.folders.values()) if cgroup is not None else set()
        try:
            code = process.wait(timeout=DEADLINE)
        finally:
            end_experiment(process, timeout=1)
        message = exit_message(code, folder / "logs" / "output.log", process.limits)
        return message, folders, _left(marker)

    yield start
    for process in started:  # a failed assertion mid-run leaves nothing either
        end_experiment(process, timeout=1)


@pytest.mark.skipif(
    os.geteuid() != 0,
    reason="only a root worker gives experiments a uid of "
    "their own, and RLIMIT_NPROC counts every process of the uid",
)
@pytest.mark.parametrize("use_cgroups", [True, False], ids=["cgroup", "rlimits"])
def test_a_fork_bomb_is_contained_and_leaves_no_process_behind(run, use_cgroups):
    message, folders, left = run(
        "python3 script.py", script=FORK_BOMB, uid=PRIVATE_UID, nproc=40, use_cgroups=use_cgroups
    )
    assert "children, then: [Errno 11] Resource temporarily unavailable" in message
    assert int(message.split("\n")[1].split()[0]) < 40
    assert message.startswith(
        "The experiment reached its limit of 40 processes and threads."
        if use_cgroups and "pids" in cgroups.available()
        else "The experiment reached the limit of 40 processes and threads that"
        " all experiments share."
    )
    assert left == [] and not any(folder.exists() for folder in folders)


def test_the_memory_limit_holds_without_cgroups_as_an_address_space_limit(run):
    message, _, left = run(f"python3 -c '{HOG}'", memory_mb=64, use_cgroups=False)
    assert message.startswith("The experiment exceeded its memory limit of 64 MiB. Exit code 1.")
    assert message.endswith("MemoryError") and left == []


def test_a_file_past_the_size_limit_fails_cleanly(run, tmp_path):
    message, _, left = run("head -c 3M /dev/zero > $OUTPUTS/big", file_mb=1)
    assert message.startswith(
        "The experiment wrote a file past the limit of 1 MiB per file. Exit code 153."
    )
    assert (tmp_path / "xp0" / "outputs" / "big").stat().st_size == 1 << 20
    assert left == []


def test_experiments_run_with_the_configured_niceness(run):
    message, _, _ = run(r"cut -d ' ' -f 19 /proc/self/stat; exit 9", nice=7)
    assert message.split("\n")[1] == str(min(19, os.nice(0) + 7))


def test_an_experiment_whose_outputs_pass_their_limit_is_stopped_on_a_celery_worker(
    tmp_path, monkeypatch
):
    finals = []

    class Reporter:
        def __init__(self, url, key):
            pass

        def post(self, path, body):
            return {}

        post_retrying = post

        def final(self, status, message=None):
            finals.append((status, message))

    monkeypatch.setattr(executor, "Reporter", Reporter)
    job = {
        "env": {"POLYAXON_API_URL": "http://127.0.0.1:9/", "POLYAXON_TOKEN": "xp_key"},
        "folder": "alice/demo/1",
        "command": "head -c 700K /dev/urandom > a; head -c 700K /dev/urandom > b; sleep 60",
    }
    sandbox = Sandbox(limits=Limits(outputs_mb=1, check_seconds=0.1))
    outcome = executor.run_job(
        job, worker="w1", outputs_root=tmp_path, grace=1, heartbeat=1, sandbox=sandbox
    )
    assert outcome == "failed"
    assert finals == [
        ("failed", "The experiment's outputs and log passed their limit of 1 MiB: it was stopped.")
    ]


def test_the_worker_says_what_enforces_each_limit():
    lines = Limits(
        nice=10,
        memory_mb=512,
        nproc=4096,
        file_mb=4096,
        outputs_mb=10240,
        share=8,
        use_cgroups=False,
    ).describe()
    assert lines == [
        "CPU: niceness +10 (no usable cpu cgroup: the kernel's autogroups may still share the "
        "CPU equally between sessions)",
        "memory: 512 MiB each (RLIMIT_AS per process: no usable memory cgroup here)",
        "processes: 4096 processes and threads for all experiments together (RLIMIT_NPROC of "
        "the sandbox uid)",
        "files: up to 4096 MiB each (RLIMIT_FSIZE)",
        "outputs and log: up to 10240 MiB per experiment (checked every 10 s)",
    ]
    if "memory" in cgroups.available():
        assert "cgroup v" in Limits(memory_mb=512).describe()[1]
