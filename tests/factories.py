"""Plain factory functions for tests: users, tokens, projects, groups, through the services
(and a search group in mid-course, experiments moved on, metrics and TensorBoard scalars, written
as the runner leaves them)."""

import io
import tarfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select, update

from dashboard.extensions import db
from dashboard.login import SESSION_KEY
from dashboard.models import (
    Experiment,
    ExperimentGroup,
    ExperimentValue,
    Project,
    SearchIteration,
    User,
)
from dashboard.models.experiments import value_columns
from dashboard.models.types import utcnow
from dashboard.services.experiment.experiments import create_experiments
from dashboard.services.group import groups, statuses
from dashboard.services.project import projects
from dashboard.services.project.access import project_access
from dashboard.services.user import login_sessions, users

# The example polyaxonfiles, in the repository's own examples/ folder (never outside the project).
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# The reference page's polyaxonfile.
RANDOM_YML = (EXAMPLES / "random.yml").read_text()


def grid_yml(n):
    """A grid polyaxonfile with n experiments (one `values` param)."""
    values = ", ".join(str(i) for i in range(n))
    return (
        "version: 1\nkind: group\nhptuning:\n  concurrency: 2\n  matrix:\n"
        f"    x: {{values: [{values}]}}\nrun:\n  cmd: echo {{{{ x }}}}\n"
    )


def wide_bo_yml(width, observations, utility="n_iter: 250"):
    """A bo polyaxonfile whose GP suggestions are slow: `observations` initial trials over a
    matrix encoded in `width` + 1 columns (a number and `width` categories)."""
    values = ", ".join(f"c{i}" for i in range(width))
    return (
        "version: 1\nkind: group\nhptuning:\n  seed: 1\n  bo:\n"
        f"    n_initial_trials: {observations}\n    n_iterations: 3\n"
        f"    metric: {{name: loss, optimization: minimize}}\n    utility_function: {{{utility}}}\n"
        f"  matrix:\n    x: {{uniform: [0, 1]}}\n    c: {{values: [{values}]}}\n"
        "run:\n  cmd: echo {{ x }} {{ c }}\n"
    )


def wide_bo_results(width, observations):
    """Results of a `wide_bo_yml` group's initial trials: [matrix params, loss, iteration 0]."""
    return [
        [{"x": i / observations, "c": f"c{i % width}"}, (i / observations - 0.3) ** 2, 0]
        for i in range(observations)
    ]


def bo_waiting_for_its_gp(project, width=500, observations=200, utility="n_iter: 250"):
    """A `wide_bo_yml` group whose initial trials all succeeded (written into the database as
    the runner would leave them): its next iteration is a GP suggestion, a minute or more of
    work with the defaults."""
    group = make_group(project, content=wide_bo_yml(width, observations, utility))
    results = wide_bo_results(width, observations)
    ids = create_experiments(group, [params for params, _, _ in results], iteration=0)
    db.session.execute(
        update(Experiment),
        [
            {"id": experiment_id, "status": "succeeded", "last_metric": {"loss": loss}}
            for experiment_id, (_, loss, _) in zip(ids, results, strict=True)
        ],
    )
    db.session.add(SearchIteration(group_id=group.id, number=0, data={"kind": "initial"}))
    db.session.execute(
        update(ExperimentGroup)
        .where(ExperimentGroup.id == group.id)
        .values(status="running", current_iteration=1)
    )
    db.session.commit()
    return group


def make_user(username, password="pw", *, staff=False):
    return users.create_user(username, password, is_staff=staff)


def make_token(user):
    return users.create_token(user, "test")[1]


def sign_in_cookie(client, user, **extra):
    """Put a live signed-in session of the user (and `extra` keys) in the client's cookie jar,
    as the sign-in form leaves it, without the form."""
    key = login_sessions.start_session(user)
    with client.session_transaction() as session:
        session.update({"_user_id": str(user.id), "_fresh": True, SESSION_KEY: key, **extra})


def auth(key):
    """The Authorization header for a token key."""
    return {"Authorization": f"token {key}"}


def make_project(owner, name="demo", *, public=True):
    return projects.create_project(actor=owner, name=name, is_public=public)


def alice_project_with_code(config, files, password="secret-pw"):
    """alice/demo whose code (an upload, unpacked where the runner reads it) is `files`
    ({name: text}); returns the project."""
    from dashboard.models import RepoUpload
    from dashboard.storage import paths

    alice = make_user("alice", password)
    project = make_project(alice, "demo")
    upload = RepoUpload(project_id=project.id, user_id=alice.id, path="", size=1)
    db.session.add(upload)
    db.session.flush()
    code = paths.repo_dir(config, "alice", "demo", upload.id)
    code.mkdir(parents=True)
    for name, text in files.items():
        (code / name).write_text(text)
    upload.path = str(code)
    db.session.commit()
    return project


def add_member(project, user, role):
    return projects.add_member(
        project.owner.username, project.name, user.username, role, actor=project.owner
    )


def make_group(project, actor=None, content=RANDOM_YML, **fields):
    access = project_access(project.owner.username, project.name, actor=actor or project.owner)
    return groups.create_group(access, content=content, **fields)


class _Zeros(io.RawIOBase):
    """`size` zero bytes, made as they are read."""

    def __init__(self, size):
        self.left = size

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def zeros_tarball(size, *, files=1):
    """A .tar.gz of `files` files of zeros, `size` bytes in all, built streaming (400 MiB
    compresses to about 400 KB): an upload bomb, or a large upload that is slow to unpack."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for index in range(files):
            info = tarfile.TarInfo(f"zeros/{index}.bin")
            info.size = size // files
            archive.addfile(info, _Zeros(info.size))
    return buffer.getvalue()


def alice_group(content=None, **fields):
    """alice's public project `demo` with one group (the reference group by default)."""
    alice = make_user("alice")
    project = make_project(alice, "demo")
    group = make_group(project, **({"content": content} if content else {}), **fields)
    return alice, project, group


def start_group(group):
    statuses.set_group_status(group, "running")
    db.session.commit()


def move_experiments(group, count, status):
    """Move `count` of the group's pending experiments to `status`, as the workers would."""
    ids = db.session.scalars(
        select(Experiment.id)
        .where(Experiment.group_id == group.id, Experiment.status == "created")
        .order_by(Experiment.id)
        .limit(count)
    ).all()
    now = utcnow()
    values = {"status": status, "started_at": now - timedelta(minutes=3)}
    if status in ("succeeded", "failed", "stopped"):
        values["finished_at"] = now
    db.session.execute(update(Experiment).where(Experiment.id.in_(ids)).values(**values))
    db.session.commit()
    return ids


def report_metric(experiment_id, name, value):
    """Store a metric as the metrics endpoint would (last_metric and its typed value row)."""
    experiment = db.session.get(Experiment, experiment_id)
    experiment.last_metric = {**(experiment.last_metric or {}), name: value}
    db.session.execute(
        insert(ExperimentValue).values(
            experiment_id=experiment_id,
            group_id=experiment.group_id,
            kind="metric",
            name=name,
            num_value=float(value),
            text_value=str(value),
        )
    )
    db.session.commit()


def finish(group, metric=lambda index, params: index / 10, name="loss", status="succeeded"):
    """Give every experiment of the group a final status and a metric, in id order, stored as
    a report stores it (last_metric and its typed value row)."""
    ids = db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    start = utcnow() - timedelta(hours=1)
    for index, experiment in enumerate(ids):
        experiment.status = status
        experiment.finished_at = start + timedelta(seconds=index)
        experiment.last_metric = {name: metric(index, experiment.params)}
        num, text = value_columns(experiment.last_metric[name])
        db.session.merge(
            ExperimentValue(
                experiment_id=experiment.id,
                group_id=group.id,
                kind="metric",
                name=name,
                num_value=num,
                text_value=text,
            )
        )
    db.session.commit()
    return [e.id for e in ids]


def write_scalar(directory, tag="loss", value=0.5):
    """A TensorBoard event file in `directory` holding one scalar, as a training run writes it."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(directory))
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
    writer.add_event(event_pb2.Event(wall_time=time.time(), step=1, summary=summary))
    writer.close()


@dataclass
class Owner:
    """A user with an API token and a project of theirs (and a group with its experiments, in
    id order, when one was made): what most API tests start from."""

    user: User
    key: str
    headers: dict
    project: Project
    group: ExperimentGroup | None = None
    experiments: list = field(default_factory=list)


def owner_with_project(username="root", project_name="quick-start"):
    """`root` with a token and the public project `quick-start`."""
    user = make_user(username)
    project = make_project(user, project_name)
    key = make_token(user)
    return Owner(user=user, key=key, headers=auth(key), project=project)


def owner_with_group(content, username="root", project_name="quick-start", **group_fields):
    """`owner_with_project` and a group of `content` in the project, with its experiments."""
    user = make_user(username)
    project = make_project(user, project_name)
    group = make_group(project, content=content, **group_fields)
    experiments = db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    key = make_token(user)
    return Owner(user, key, auth(key), project, group, list(experiments))


def first_experiment_id(group):
    """The id of the group's first experiment."""
    return db.session.scalar(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    )


MIXED_SIZE = 31


def mixed_group():
    """A grid of 31 (param x) whose metric m is a number with ties (one of them written "2",
    one NaN), a text or missing, whose param p is a text with ties, a number or missing, and
    whose experiments are created, running or failed."""
    owner = make_user("root")
    project = make_project(owner, "quick-start")
    group = make_group(project, content=grid_yml(MIXED_SIZE))
    ids = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    rows = []
    for n, experiment_id in enumerate(ids):
        m = (float(n % 4) if n % 7 != 3 else f"t{n % 3}") if n % 6 != 5 else None
        p = (("relu", "tanh", "relu", 1)[n % 4]) if n % 5 != 2 else None
        for kind, name, value in (("metric", "m", m), ("param", "p", p)):
            if value is None:
                continue
            num, text = value_columns(value)
            if (kind, n) == ("metric", 6):
                text = "2"  # 2.0 as the others, but another text: the tie is broken by text
            if (kind, n) == ("metric", 13):
                num, text = float("nan"), "nan"
            rows.append(
                {
                    "experiment_id": experiment_id,
                    "group_id": group.id,
                    "kind": kind,
                    "name": name,
                    "num_value": num,
                    "text_value": text,
                }
            )
    db.session.execute(insert(ExperimentValue), rows)
    for status, step in (("running", 5), ("failed", 7)):
        db.session.execute(
            update(Experiment).where(Experiment.id.in_(ids[::step][1:])).values(status=status)
        )
    db.session.commit()
    return owner, project, group
