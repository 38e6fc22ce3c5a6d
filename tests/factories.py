"""Plain factory functions for tests: users, tokens, projects, groups, through the services
(and a search group in mid-course, written as the runner leaves it)."""

import io
import tarfile
from pathlib import Path

from sqlalchemy import update

from dashboard.extensions import db
from dashboard.login import SESSION_KEY
from dashboard.models import Experiment, ExperimentGroup, SearchIteration
from dashboard.services import groups, login_sessions, projects, users
from dashboard.services.access import project_access
from dashboard.services.experiments import create_experiments

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
    return [[{"x": i / observations, "c": f"c{i % width}"}, (i / observations - 0.3) ** 2, 0]
            for i in range(observations)]


def bo_waiting_for_its_gp(project, width=500, observations=200, utility="n_iter: 250"):
    """A `wide_bo_yml` group whose initial trials all succeeded (written into the database as
    the runner would leave them): its next iteration is a GP suggestion, a minute or more of
    work with the defaults."""
    group = make_group(project, content=wide_bo_yml(width, observations, utility))
    results = wide_bo_results(width, observations)
    ids = create_experiments(group, [params for params, _, _ in results], iteration=0)
    db.session.execute(update(Experiment), [
        {"id": experiment_id, "status": "succeeded", "last_metric": {"loss": loss}}
        for experiment_id, (_, loss, _) in zip(ids, results, strict=True)])
    db.session.add(SearchIteration(group_id=group.id, number=0, data={"kind": "initial"}))
    db.session.execute(update(ExperimentGroup).where(ExperimentGroup.id == group.id)
                       .values(status="running", current_iteration=1))
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


def add_member(project, user, role):
    return projects.add_member(project.owner.username, project.name, user.username, role,
                               actor=project.owner)


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
