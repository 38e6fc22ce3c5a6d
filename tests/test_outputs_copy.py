"""storage.safe_files.copy_tree, what a copied experiment's outputs start as: folders and
regular files only, never a link followed out of the tree, within its bounds."""

import os
import time

import pytest

from dashboard.storage.safe_files import CopyRefused, copy_tree


def _copy(source, destination, **bounds):
    settings = {"max_bytes": 10**6, "max_files": 100, "deadline": time.monotonic() + 60}
    return copy_tree(source, destination, **{**settings, **bounds})


def test_files_and_folders_are_copied_with_their_rwx_bits(tmp_path):
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "model.bin").write_bytes(b"x" * 3000)
    (source / "notes.txt").write_text("hello")
    os.chmod(source / "notes.txt", 0o4755)

    assert _copy(source, tmp_path / "copy") == (2, 3005)

    assert (tmp_path / "copy" / "sub" / "model.bin").read_bytes() == b"x" * 3000
    assert oct(os.stat(tmp_path / "copy" / "notes.txt").st_mode & 0o7777) == "0o755"


def test_links_fifos_and_linked_folders_are_left_out(tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key").write_text("do not copy")
    source = tmp_path / "source"
    source.mkdir()
    (source / "file-link").symlink_to(secret / "key")
    (source / "folder-link").symlink_to(secret)
    os.mkfifo(source / "fifo")

    assert _copy(source, tmp_path / "copy") == (0, 0)
    assert sorted(os.listdir(tmp_path / "copy")) == []


def test_a_linked_source_copies_nothing(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_text("x")
    (tmp_path / "linked").symlink_to(tmp_path / "real")

    assert _copy(tmp_path / "linked", tmp_path / "copy") == (0, 0)


@pytest.mark.parametrize(
    ("bounds", "says"),
    [
        ({"max_bytes": 100}, "larger than 100 bytes"),
        ({"max_files": 2}, "more than 2 files"),
        ({"deadline": 0}, "took too long"),
    ],
)
def test_a_copy_past_its_bounds_is_refused_saying_which(tmp_path, bounds, says):
    source = tmp_path / "source"
    source.mkdir()
    for index in range(3):
        (source / f"f{index}").write_bytes(b"x" * 60)

    with pytest.raises(CopyRefused, match=says):
        _copy(source, tmp_path / "copy", **bounds)
