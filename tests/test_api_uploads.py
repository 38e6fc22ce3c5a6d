"""The project's code upload: what `polyaxon upload` sends, unpacked safely into its own folder."""

import io
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import RepoUpload
from dashboard.services.project.uploads import latest_repo
from dashboard.storage import paths
from dashboard.storage.unpack import UnsafeArchive, unpack_tarball
from tests.factories import add_member, auth, make_token, make_user, owner_with_project

URL = "/api/v1/root/quick-start/repo/upload/"
UPLOAD_KEYS = {"id", "project", "user", "size", "created_at"}


def _tarball(files=None, *, mode="w:gz", extra=()):
    """A tarball of {name: bytes}; `extra` holds ready TarInfo members (links, devices...)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for name, data in (files or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info)
    return buffer.getvalue()


def _member(name, kind, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def _form(data, field="repo"):
    # As the CLI sends it: the file part typed text/plain, plus a `json` field.
    return {
        field: (io.BytesIO(data), "/tmp/polyaxon_quick-start.tar.gz", "text/plain"),
        "json": '{"sync": true}',
    }


def _put(client, headers, data, field="repo"):
    return client.put(
        URL, headers=headers, data=_form(data, field), content_type="multipart/form-data"
    )


def _uploads():
    return db.session.scalar(select(func.count()).select_from(RepoUpload))


def test_upload_answers_201_with_the_upload(client):
    root = owner_with_project()

    response = _put(client, root.headers, _tarball({"train.py": b"print(1)\n"}))

    assert response.status_code == 201
    assert set(response.json) == UPLOAD_KEYS
    assert (response.json["project"], response.json["user"], response.json["size"]) == (
        "root.quick-start",
        "root",
        9,
    )


def test_upload_unpacks_into_the_repo_folder_of_the_upload(app, client):
    root = owner_with_project()

    response = _put(
        client, root.headers, _tarball({"./train.py": b"print(1)\n", "./pkg/util.py": b"x = 1\n"})
    )

    folder = paths.repo_dir(app.config, "root", "quick-start", response.json["id"])
    outputs_root = Path(app.config["OUTPUTS_ROOT"]).resolve()
    assert folder.parent == outputs_root / "root" / "quick-start" / "code"
    assert (folder / "train.py").read_bytes() == b"print(1)\n"
    assert (folder / "pkg" / "util.py").read_bytes() == b"x = 1\n"
    assert latest_repo(root.project).path == str(folder)


def test_post_is_accepted_like_put(client):
    root = owner_with_project()

    response = client.post(
        URL,
        headers=root.headers,
        data=_form(_tarball({"a.py": b""})),
        content_type="multipart/form-data",
    )

    assert response.status_code == 201


def test_a_new_upload_becomes_the_latest_and_keeps_the_old_one(client):
    root = owner_with_project()
    first = _put(client, root.headers, _tarball({"v.txt": b"1"})).json["id"]

    second = _put(client, root.headers, _tarball({"v.txt": b"2"})).json["id"]

    upload = latest_repo(root.project)
    assert upload.id == second != first
    assert (Path(upload.path) / "v.txt").read_bytes() == b"2"
    assert (Path(db.session.get(RepoUpload, first).path) / "v.txt").read_bytes() == b"1"


def test_a_project_without_uploads_has_no_latest_repo(app):
    root = owner_with_project()

    assert latest_repo(root.project) is None


def test_an_upload_larger_than_the_json_limit_is_accepted(client):
    root = owner_with_project()
    data = _tarball({"data.bin": b"x" * (3 * 1024 * 1024 // 2)}, mode="w")  # uncompressed

    response = _put(client, root.headers, data)

    assert len(data) > 1024 * 1024
    assert response.status_code == 201


def test_an_upload_over_the_body_limit_is_413(app, client):
    root = owner_with_project()
    app.config["MAX_CONTENT_LENGTH"] = 10 * 1024

    response = _put(client, root.headers, _tarball({"data.bin": b"x" * 20 * 1024}, mode="w"))

    assert response.status_code == 413
    assert response.json == {"detail": "Request body too large."}


def test_upload_without_the_repo_field_is_400(client):
    root = owner_with_project()

    response = _put(client, root.headers, _tarball({"a.py": b""}), field="code")

    assert response.status_code == 400
    assert response.json == {"repo": ["This field is required: the code as a .tar.gz file."]}


def test_upload_as_json_is_400(client):
    root = owner_with_project()

    response = client.put(URL, headers=root.headers, json={"repo": "x"})

    assert response.status_code == 400
    assert "multipart/form-data" in response.json["detail"]


def test_upload_of_something_else_than_a_tarball_is_400(client):
    root = owner_with_project()

    response = _put(client, root.headers, b"not a tarball at all")

    assert response.status_code == 400
    assert response.json["repo"][0].startswith("The upload is not a readable tar archive")
    assert _uploads() == 0


@pytest.mark.parametrize(
    ("extra", "files", "message"),
    [
        ((), {"/etc/passwd": b"x"}, "'/etc/passwd': absolute paths are not allowed."),
        ((), {"../escape.py": b"x"}, "'../escape.py': '..' in a path is not allowed."),
        ((), {"a/../../escape.py": b"x"}, "'a/../../escape.py': '..' in a path is not allowed."),
        (
            (_member("link", tarfile.SYMTYPE, "/etc/passwd"),),
            {},
            "'link': a symlink is not allowed.",
        ),
        (
            (_member("hard", tarfile.LNKTYPE, "a.py"),),
            {"a.py": b""},
            "'hard': a hardlink is not allowed.",
        ),
        ((_member("dev", tarfile.CHRTYPE),), {}, "'dev': a device is not allowed."),
        ((_member("blk", tarfile.BLKTYPE),), {}, "'blk': a device is not allowed."),
        ((_member("pipe", tarfile.FIFOTYPE),), {}, "'pipe': a fifo is not allowed."),
    ],
    ids=[
        "absolute",
        "dotdot",
        "inner-dotdot",
        "symlink",
        "hardlink",
        "chardev",
        "blockdev",
        "fifo",
    ],
)
def test_unsafe_members_are_refused_naming_the_member(app, client, tmp_path, extra, files, message):
    app.config["OUTPUTS_ROOT"] = str(tmp_path / "outputs")
    root = owner_with_project()

    response = _put(client, root.headers, _tarball(files, extra=extra))

    assert response.status_code == 400
    assert response.json == {"repo": [message]}
    assert _uploads() == 0
    assert not (tmp_path / "outputs").exists() or list((tmp_path / "outputs").iterdir()) == []


def test_unpack_refuses_too_many_members(tmp_path):
    data = _tarball({f"f{i}.py": b"" for i in range(3)})

    with pytest.raises(UnsafeArchive, match="more than 2 members"):
        unpack_tarball(io.BytesIO(data), tmp_path / "repo", max_members=2)
    assert not (tmp_path / "repo").exists()


def test_unpack_refuses_too_much_unpacked_data(tmp_path):
    data = _tarball({"a.bin": b"x" * 600, "b.bin": b"x" * 600})

    with pytest.raises(UnsafeArchive, match="'b.bin': the unpacked code is larger than 1000"):
        unpack_tarball(io.BytesIO(data), tmp_path / "repo", max_bytes=1000)
    assert not (tmp_path / "repo").exists()


def test_unpack_returns_the_bytes_written_and_keeps_the_exec_bit(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("run.sh")
        info.size, info.mode = 3, 0o4755
        tar.addfile(info, io.BytesIO(b"ls\n"))
    buffer.seek(0)

    size = unpack_tarball(buffer, tmp_path / "repo")

    assert size == 3
    assert (tmp_path / "repo" / "run.sh").stat().st_mode & 0o7777 == 0o755


def test_unpack_refuses_a_file_clashing_with_a_folder(tmp_path):
    data = _tarball({"a": b"x", "a/b.py": b"y"})

    with pytest.raises(UnsafeArchive, match="'a/b.py': clashes with another member"):
        unpack_tarball(io.BytesIO(data), tmp_path / "repo")


def test_a_viewer_cannot_upload(client):
    root = owner_with_project()
    viewer = make_user("viewer")
    add_member(root.project, viewer, "viewer")

    response = _put(client, auth(make_token(viewer)), _tarball({"a.py": b""}))

    assert response.status_code == 403
    assert _uploads() == 0
