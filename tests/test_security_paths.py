"""Security on disk: run.cmd stays in its sandbox, uploads stay in their folder, logs and outputs
stay in their project."""

import io
import os
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import ExperimentGroup, User
from dashboard.services.group import tensorboards
from dashboard.services.project.access import project_access
from dashboard.storage import paths
from tests.factories import (
    add_member,
    auth,
    first_experiment_id,
    make_group,
    make_project,
    make_token,
    make_user,
)
from tests.support.web import HTMX, sign_in

# ---- run.cmd sandbox --------------------------------------------------------------------

SANDBOX_ESCAPES = (
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ x.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ lipsum.__globals__['os'].system('id') }}",
    "{% include '/etc/passwd' %}",
    "{{ 'a' * 1000000000 }}",
    "{{ 9 ** 999999 }}",
)


@pytest.mark.parametrize("cmd", SANDBOX_ESCAPES)
def test_run_cmd_templates_cannot_escape_the_sandbox(app, client, cmd):
    alice = make_user("alice")
    make_project(alice, "demo")
    content = (
        "version: 1\nkind: group\nhptuning:\n  matrix:\n    x: {values: [1, 2]}\n"
        f'run:\n  cmd: "{cmd}"\n'
    )
    response = client.post(
        "/api/v1/alice/demo/groups/", json={"content": content}, headers=auth(make_token(alice))
    )
    assert response.status_code == 400, response.json
    assert list(response.json) == ["content"] and "run.cmd" in response.json["content"][0]
    assert db.session.scalar(select(db.func.count()).select_from(ExperimentGroup)) == 0


# ---- uploads ----------------------------------------------------------------------------


def _tarball(*members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, kind, target in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(target)
                tar.addfile(info, io.BytesIO(target))
            else:
                info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
                info.linkname = target
                tar.addfile(info)
    buffer.seek(0)
    return buffer


def _files(folder):
    return sorted(str(p) for p in folder.rglob("*") if not p.is_dir()) if folder.exists() else []


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ([("../escaped.txt", "file", b"x")], "'..' in a path"),
        (([("code/../../escaped.txt", "file", b"x")]), "'..' in a path"),
        ([("/tmp/escaped-absolute.txt", "file", b"x")], "absolute paths"),
        ([("link", "symlink", "/etc"), ("link/passwd", "file", b"x")], "a symlink"),
        ([("link", "symlink", "../../.."), ("link/escaped.txt", "file", b"x")], "a symlink"),
        ([("hard", "hardlink", "/etc/passwd")], "a hardlink"),
    ],
)
def test_uploads_that_would_write_outside_their_folder_are_refused(
    app, client, tmp_path, members, reason
):
    alice = make_user("alice")
    make_project(alice, "demo")
    repos = Path(app.config["OUTPUTS_ROOT"])  # uploads are unpacked below it
    before = _files(repos)
    response = client.post(
        "/api/v1/alice/demo/repo/upload/",
        headers=auth(make_token(alice)),
        data={"repo": (_tarball(*members), "repo.tar.gz"), "json": '{"sync": true}'},
    )
    assert response.status_code == 400, response.json
    assert reason in response.json["repo"][0]
    assert _files(repos) == before == []
    assert not (repos.parent / "escaped.txt").exists()
    assert not os.path.exists("/tmp/escaped-absolute.txt")


# ---- paths outside the group --------------------------------------------------------------


def _two_projects():
    owner, outsider = make_user("owner"), make_user("outsider")
    public, private = make_project(owner, "open"), make_project(owner, "secret", public=False)
    add_member(public, outsider, "member")
    return outsider, make_group(public), make_group(private)


def test_logs_and_outputs_of_another_project_are_not_reachable_through_this_one(app, client):
    outsider, mine, theirs = _two_projects()
    xp = first_experiment_id(theirs)
    headers = auth(make_token(outsider))
    sign_in(client, "outsider")
    for response in (
        client.get(f"/api/v1/owner/open/experiments/{xp}/logs/", headers=headers),
        client.get(f"/api/v1/owner/open/experiments/{xp}/outputs/", headers=headers),
        client.get(f"/owner/open/groups/{mine.id}/experiments/{xp}/"),
        client.get(f"/owner/open/groups/{mine.id}/experiments/{xp}/log", headers=HTMX),
        client.get(f"/owner/open/groups/{theirs.id}/experiments/{xp}/log", headers=HTMX),
        client.get(f"/owner/secret/groups/{theirs.id}/experiments/{xp}/log", headers=HTMX),
    ):
        assert response.status_code == 404


def test_the_tensorboard_proxy_serves_only_the_group_in_its_url(app, client):
    outsider, mine, theirs = _two_projects()
    owner = db.session.scalar(select(User).where(User.username == "owner"))
    tensorboards.start_tensorboard(project_access("owner", "secret", actor=owner), theirs.id)
    sign_in(client, "outsider")
    for path in (
        f"/tensorboard/owner/open/groups/{theirs.id}/",
        f"/tensorboard/owner/open/groups/{theirs.id}/data/runs",
        f"/tensorboard/owner/secret/groups/{theirs.id}/data/runs",
        f"/tensorboard/owner/open/groups/{mine.id}/../../../secret/groups/{theirs.id}/",
    ):
        assert client.get(path).status_code == 404, path


def test_a_log_symlinked_outside_its_experiment_is_not_read(app, client, tmp_path):
    alice = make_user("alice")
    group = make_group(make_project(alice, "demo"))
    xp = first_experiment_id(group)
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET\n")
    log = paths.experiment_log_path(app.config, "alice", "demo", group.id, xp)
    log.parent.mkdir(parents=True)
    log.symlink_to(secret)
    response = client.get(
        f"/api/v1/alice/demo/experiments/{xp}/logs/", headers=auth(make_token(alice))
    )
    assert "TOP-SECRET" not in response.get_data(as_text=True)
    sign_in(client, "alice")
    page = client.get(f"/alice/demo/groups/{group.id}/experiments/{xp}/")
    assert page.status_code == 200 and b"TOP-SECRET" not in page.data
