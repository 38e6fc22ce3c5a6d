"""The runner as the tests watch it: the script experiments run, its polyaxonfile, and polls
(with a deadline, never a bare sleep) of the group, its experiments and the script's record."""

import json
import time
from pathlib import Path

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup

DEADLINE = 90

TRAIN = """\
import json, os, subprocess, sys, time, urllib.request
params = json.loads(os.environ["POLYAXON_PARAMS"])
record = params["record"]
def note(event, **extra):
    if params.get("note_gpus"):  # the GPUs it was given (tests of placement)
        extra["gpus"] = os.environ.get("CUDA_VISIBLE_DEVICES")
        extra["nvidia"] = os.environ.get("NVIDIA_VISIBLE_DEVICES")
    with open(record, "a") as handle:
        handle.write(json.dumps({"event": event, "x": params.get("x"), "time": time.time(),
                                 "pid": os.getpid(), **extra}) + "\\n")
if params.get("note_gpus"):
    print("CUDA_VISIBLE_DEVICES=" + repr(os.environ.get("CUDA_VISIBLE_DEVICES")), flush=True)
def report(**values):
    request = urllib.request.Request(
        os.environ["POLYAXON_API_URL"] + "/metrics", method="POST",
        data=json.dumps({"values": values}).encode(),
        headers={"Authorization": "token " + os.environ["POLYAXON_TOKEN"],
                 "Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()
child = subprocess.Popen(["sleep", "300"]) if params.get("sleep", 0) > 5 else None
note("start", child=child.pid if child else None)
if params.get("crash"):
    sys.exit(4)  # leaves its child orphaned
for epoch in range(params.get("epochs", 2)):
    report(loss=float(params["x"]) / (epoch + 1), accuracy=params.get("accuracy", 0.1))
time.sleep(params.get("sleep", 0.3))
if params.get("fail"):
    print("something went wrong in epoch 2", file=sys.stderr)
    sys.exit(3)
if params.get("fail_first"):  # fails the first run of each x, so a retry of it succeeds
    with open(record) as handle:
        starts = [json.loads(line) for line in handle if '"start"' in line]
    if sum(1 for start in starts if start["x"] == params.get("x")) == 1:
        sys.exit(5)
note("end")
"""


def polyaxonfile(record, *, n=6, concurrency=2, extra="", algorithm=None, **params):
    declared = {"record": str(record), **params}
    lines = [
        "version: 1",
        "kind: group",
        "hptuning:",
        f"  concurrency: {concurrency}",
        algorithm or f"  random_search: {{n_experiments: {n}}}",
        "  matrix:",
        "    x: {range: [1, 100, 1]}",
    ]
    if extra:
        lines.append(extra)
    lines += [f"params: {json.dumps(declared)}", "run:", "  cmd: python3 train.py"]
    return "\n".join(lines) + "\n"


def wait_for(condition, what, deadline=DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        db.session.expire_all()
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def group_status(group_id):
    db.session.expire_all()
    return db.session.get(ExperimentGroup, group_id).status


def experiments_of(group_id):
    db.session.expire_all()
    return db.session.scalars(
        select(Experiment).where(Experiment.group_id == group_id).order_by(Experiment.id)
    ).all()


def events(record):
    if not Path(record).exists():
        return []
    return [json.loads(line) for line in Path(record).read_text().splitlines()]


def max_overlap(record):
    timeline = sorted((e["time"], 1 if e["event"] == "start" else -1) for e in events(record))
    running = peak = 0
    for _, step in timeline:
        running += step
        peak = max(peak, running)
    return peak


def pid_alive(pid):
    """Whether the process exists and is not a zombie (killed, waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def started(record):
    return [e for e in events(record) if e["event"] == "start"]
