"""An experiment that attacks the server from inside its sandbox, and what it must not reach.

Its code walks /proc (environments and command lines of every process it can see, a signal to
the worker), looks for the database, the secret key, the instance folder and other projects'
outputs and code (at the real paths, given to it, and by walking the filesystem), probes a
TensorBoard's port at its public prefix, tries to write its code and to replace its own log,
and starts detached processes (setsid, double fork). It writes what it found to
outputs/findings.json, then sleeps until it is killed.
"""

import errno
import json
import os
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, RepoUpload
from dashboard.processes import tensorboard
from dashboard.services.group import tensorboards
from dashboard.services.project.access import project_access
from dashboard.storage import paths
from tests.factories import make_group, make_project, make_user
from tests.support.environment import ROOT
from tests.support.processes import processes_with

ATTACK = r"""
import errno, json, os, subprocess, sys, time, urllib.error, urllib.request
targets = json.loads(os.environ["POLYAXON_PARAMS"])
found = {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups()}
pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
found["pids"] = pids
found["cmdlines"], leaks = {}, []
for pid in pids:
    try:
        found["cmdlines"][pid] = open(f"/proc/{pid}/cmdline", "rb").read().decode(
            errors="replace").replace("\0", " ")
        environ = open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace")
    except OSError:
        continue
    # The secrets come reversed: its own environment (POLYAXON_PARAMS) holds them that way.
    leaks += [secret for secret in targets["secrets"] if secret[::-1] in environ]
found["environ_leaks"] = [secret[::-1] for secret in leaks]
try:
    os.kill(targets["worker_pid"], 0)
    found["signal_worker"] = "delivered"
except OSError as exc:
    found["signal_worker"] = errno.errorcode[exc.errno]
outputs = os.environ["POLYAXON_RUN_OUTPUTS_PATH"]
found["own"] = os.path.dirname(outputs)
found["paths"] = {path: os.path.exists(path) for path in targets["paths"]}
seen = []
for top in ("/", ):
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if os.path.join(folder, d) not in ("/proc", "/sys", "/dev",
                                                                     "/usr")]
        seen += [os.path.join(folder, name) for name in files + dirs]
found["database_files"] = [p for p in seen if p.endswith((".db", ".sqlite"))]
found["outputs_folders"] = sorted({p for p in seen if "/groups/" in p})
probes = {}
for port in targets["ports"]:
    for prefix in targets["prefixes"]:
        url = f"http://127.0.0.1:{port}{prefix}"
        try:
            probes[url] = urllib.request.urlopen(url, timeout=10).status
        except urllib.error.HTTPError as exc:
            probes[url] = exc.code
        except OSError as exc:
            probes[url] = str(exc)
found["probes"] = probes
redis_answers = {}
for port in targets["redis_ports"]:
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"KEYS *\r\n")
        redis_answers[port] = connection.recv(200).decode(errors="replace")
found["redis"] = redis_answers
import socket
found["localhost"] = socket.gethostbyname("localhost")  # the system's files it needs are there
try:
    open("written-into-code.txt", "w").write("x")
    found["write_code"] = "written"
except OSError as exc:
    found["write_code"] = errno.errorcode[exc.errno]
try:
    os.mkfifo(os.path.join(found["own"], "logs", "output.log"))
    found["replace_log"] = "replaced"
except OSError as exc:
    found["replace_log"] = errno.errorcode[exc.errno]
open(os.path.join(outputs, "own-output.txt"), "w").write("mine")
open("/tmp/scratch", "w").write("private")
subprocess.Popen(["setsid", "sleep", "1000"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "1001"])
    os._exit(0)
with open(os.path.join(outputs, "findings.json.part"), "w") as handle:
    json.dump(found, handle)
os.rename(os.path.join(outputs, "findings.json.part"), os.path.join(outputs, "findings.json"))
time.sleep(1000)
"""


def attacker_group(app, project, targets):
    """A group of one experiment running ATTACK as project's code, with `targets` as params."""
    upload = RepoUpload(project_id=project.id, user_id=project.owner.id, path="", size=1)
    db.session.add(upload)
    db.session.flush()
    code = paths.repo_dir(app.config, project.owner.username, project.name, upload.id)
    code.mkdir(parents=True)
    (code / "attack.py").write_text(ATTACK)
    upload.path = str(code)
    db.session.commit()
    content = "\n".join(
        [
            "version: 1",
            "kind: group",
            "hptuning:",
            "  concurrency: 1",
            "  matrix:",
            "    n: {values: [1]}",
            f"params: {json.dumps(targets)}",
            "run:",
            "  cmd: python3 attack.py",
            "",
        ]
    )
    return make_group(project, content=content), code


def experiment_folder(app, project, group):
    """The folder of the group's only experiment."""
    experiment_id = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id)
    ).one()
    return paths.experiment_dir(
        app.config, project.owner.username, project.name, group.id, experiment_id
    )


def assert_contained(found, *, targets, own):
    """Everything ATTACK reported shows it reached nothing outside its own sandbox."""
    assert found["own"] == str(own)
    assert found["uid"] != 0 and found["gid"] != 0 and 0 not in found["groups"], found["uid"]
    assert found["environ_leaks"] == [], found["environ_leaks"]
    # Only its own processes: bwrap's reaper as pid 1, then the shell or python and its children.
    assert all(pid < 100 for pid in found["pids"]), found["pids"]
    assert not [c for c in found["cmdlines"].values() if "flask" in c or "celery" in c]
    assert found["signal_worker"] == errno.errorcode[errno.ESRCH]
    assert found["paths"] == {path: False for path in targets["paths"]}
    assert found["database_files"] == []
    own = str(own)  # its experiment's folder: it sees the folders on the way, no others
    assert [
        p for p in found["outputs_folders"] if not (own.startswith(p) or p.startswith(own))
    ] == []
    assert found["probes"] and all(status == 404 for status in found["probes"].values()), found[
        "probes"
    ]
    assert found["write_code"] == errno.errorcode[errno.EROFS]
    assert found["localhost"] == "127.0.0.1"
    assert all(answer.startswith("-NOAUTH") for answer in found["redis"].values()), found["redis"]
    assert found["replace_log"] == errno.errorcode[errno.ENOENT]  # its logs folder is not there


def read_findings(path):
    """The attacker's findings once written (None before)."""
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else None


def victim(app):
    """alice's private project: a group with outputs and code on disk, its TensorBoard running.

    Returns (paths an attacker must not see, the TensorBoard's port, its public prefix).
    """
    alice = make_user("alice")
    project = make_project(alice, "secret", public=False)
    group = make_group(project)
    experiment_id = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id)
    ).first()
    outputs = paths.experiment_outputs_dir(app.config, "alice", "secret", group.id, experiment_id)
    outputs.mkdir(parents=True)
    (outputs / "model.ckpt").write_text("weights")
    code = paths.repo_dir(app.config, "alice", "secret", 1)
    code.mkdir(parents=True)
    (code / "train.py").write_text("print('private')")
    access = project_access("alice", "secret", actor=alice)
    job, _ = tensorboards.start_tensorboard(access, group.id)
    assert tensorboard.wait_until_serving(job.host, job.port, pid=job.pid)
    return (
        [str(outputs / "model.ckpt"), str(outputs), str(code)],
        job.port,
        tensorboards.proxy_prefix(project, group.id),
    )


def targets_for(app, live_server, tmp_path, *, worker_pid, hidden, port, prefix, redis_url):
    """The attack's params: what it must not reach, and a marker its processes carry."""
    env = live_server.env
    database = env["DATABASE_URL"]
    hidden = [
        *hidden,
        env["DASHBOARD_INSTANCE"],
        str(tmp_path / "live-server.log"),
        str(ROOT / "config.py"),
        str(ROOT / "dashboard"),
        f"/proc/{worker_pid}/environ",
        app.config["OUTPUTS_ROOT"] + "/alice",
    ]
    if database.startswith("sqlite:///"):
        hidden.append(database.removeprefix("sqlite:///"))
    secrets = [env["SECRET_KEY"], database, "SECRET_KEY=", "DATABASE_URL=", "DASHBOARD_INSTANCE="]
    return {
        "marker": uuid.uuid4().hex,
        "secrets": [s[::-1] for s in secrets],
        "paths": hidden,
        "worker_pid": worker_pid,
        "ports": [port],
        "prefixes": ["/", prefix, f"{prefix}data/logdir", "/data/logdir"],
        "redis_ports": [urlsplit(redis_url).port] if redis_url else [],
    }


def attack(app, live_server, tmp_path, *, start_runner, redis_url=None):
    """Run ATTACK as bob's experiment on the runner `start_runner` starts (it returns the pid
    the experiment must not reach) until it reports; returns (findings, targets, its folder).
    With redis_url, it also asks that Redis for its keys (the Celery queue's tasks)."""
    hidden, port, prefix = victim(app)
    worker_pid = start_runner()
    targets = targets_for(
        app,
        live_server,
        tmp_path,
        worker_pid=worker_pid,
        hidden=hidden,
        port=port,
        prefix=prefix,
        redis_url=redis_url,
    )
    bob = make_user("bob")
    project = make_project(bob, "attack")
    group, _ = attacker_group(app, project, targets)
    folder = experiment_folder(app, project, group)
    deadline = time.monotonic() + 120
    while (found := read_findings(folder / "outputs" / "findings.json")) is None:
        assert time.monotonic() < deadline, "the attacking experiment never reported"
        time.sleep(0.2)
    return found, targets, folder


def assert_attack_failed(found, targets, folder):
    """Nothing reached, its own outputs written as the sandbox's uid, its detached processes
    still running (until the test kills the worker)."""
    assert_contained(found, targets=targets, own=folder)
    own = folder / "outputs" / "own-output.txt"
    assert own.read_text() == "mine"
    assert os.stat(own).st_uid == (65534 if os.geteuid() == 0 else os.geteuid())
    assert not (folder / "logs" / "output.log").is_fifo()
    # setsid and the double fork: each may still be on its way to exec sleep when the findings
    # are written, so they are waited for (a deadline, not a pause).
    end = time.monotonic() + 30
    while len(sleeping := _sleeping(targets["marker"])) < 2 and time.monotonic() < end:
        time.sleep(0.1)
    assert len(sleeping) == 2, sleeping


def _sleeping(marker):
    found = []
    for pid in processes_with(marker):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep"):
                found.append(pid)
        except OSError:
            continue
    return found


def wait_until_gone(marker, deadline=60):
    """Wait until no process carries the marker; fails naming what is left."""
    end = time.monotonic() + deadline
    while (left := processes_with(marker)) and time.monotonic() < end:
        time.sleep(0.2)
    assert left == [], [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in left]
