"""Plain factory functions for tests: users, tokens, projects, groups, through the services."""

import io
import tarfile
from pathlib import Path

from dashboard.login import SESSION_KEY
from dashboard.services import groups, login_sessions, projects, users
from dashboard.services.access import project_access

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
