"""Reads under the outputs root: an experiment's FIFO, socket or link reads as a missing file.

Each read that could hang runs in a thread under a generous guard (a hang fails the test, it
does not stall the run); a FIFO left blocking is opened for writing afterwards to release it.
"""

import contextlib
import os
import socket
import tempfile
import threading

from bs4 import BeautifulSoup
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment
from dashboard.runner.process import tail
from dashboard.storage import paths
from dashboard.storage.safe_files import open_regular, regular_files
from tests.factories import auth, grid_yml, make_group, make_project, make_token, make_user
from tests.support.web import HTMX

HANG_GUARD = 30  # seconds: far beyond any real answer, only a blocked open() reaches it


def _finishes(call, fifo=None):
    """call()'s result, run in a thread; fails (releasing the FIFO) if it is still blocked."""
    outcome = {}

    def run():
        try:
            outcome["result"] = call()
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=HANG_GUARD)
    blocked = thread.is_alive()
    if blocked and fifo is not None:
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout=HANG_GUARD)
    assert not blocked, f"still blocked after {HANG_GUARD} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _experiment(app):
    """alice's public project `demo`, one group of one experiment, and its log path."""
    alice = make_user("alice")
    group = make_group(make_project(alice, "demo"), content=grid_yml(1))
    experiment = db.session.scalar(select(Experiment).where(Experiment.group_id == group.id))
    log = paths.experiment_log_path(app.config, "alice", "demo", group.id, experiment.id)
    log.parent.mkdir(parents=True)
    return alice, group, experiment, log


def _fifo_log(app):
    alice, group, experiment, log = _experiment(app)
    os.mkfifo(log)
    return alice, group, experiment, log


def _sign_in(client, username):
    login = BeautifulSoup(client.get("/login").data, "html.parser")
    token = login.select_one("input[name=csrf_token]")["value"]
    client.post("/login", data={"username": username, "password": "pw", "csrf_token": token})


def _api_log(client, user, experiment):
    """A call of the API log route (the token is made here: the request may run in a thread)."""
    headers = auth(make_token(user))
    return lambda: client.get(
        f"/api/v1/alice/demo/experiments/{experiment.id}/logs/", headers=headers
    )


def _page_url(group, experiment, suffix=""):
    return f"/alice/demo/groups/{group.id}/experiments/{experiment.id}/{suffix}"


def _socket_at(path):
    """A listening Unix socket's file at path (bound in a short folder: paths cap at 108 bytes)."""
    with tempfile.TemporaryDirectory() as short, socket.socket(socket.AF_UNIX) as server:
        server.bind(os.path.join(short, "s"))
        os.rename(os.path.join(short, "s"), path)


# ---- the web: API log route, experiment page, log fragment ------------------------------


def test_api_log_of_a_fifo_answers_200_and_empty(app, client):
    alice, _, experiment, log = _fifo_log(app)

    response = _finishes(_api_log(client, alice, experiment), fifo=log)

    assert (response.status_code, response.data) == (200, b"")


def test_experiment_page_with_a_fifo_log_answers_200_showing_no_log(app, client):
    _, group, experiment, log = _fifo_log(app)
    _sign_in(client, "alice")

    response = _finishes(lambda: client.get(_page_url(group, experiment)), fifo=log)

    assert response.status_code == 200
    assert BeautifulSoup(response.data, "html.parser").select_one("#experiment-log pre") is None


def test_log_fragment_with_a_fifo_log_answers_200(app, client):
    _, group, experiment, log = _fifo_log(app)
    _sign_in(client, "alice")

    response = _finishes(
        lambda: client.get(_page_url(group, experiment, "log"), headers=HTMX), fifo=log
    )

    assert response.status_code == 200


def test_api_log_of_a_socket_is_empty(app, client):
    alice, _, experiment, log = _experiment(app)
    _socket_at(log)

    response = _finishes(_api_log(client, alice, experiment))

    assert (response.status_code, response.data) == (200, b"")


def test_api_log_linked_to_a_file_outside_is_empty(app, client, tmp_path):
    alice, _, experiment, log = _experiment(app)
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET\n")
    log.symlink_to(secret)

    response = _api_log(client, alice, experiment)()

    assert (response.status_code, response.data) == (200, b"")


def test_api_log_in_a_logs_folder_linked_outside_is_empty(app, client, tmp_path):
    alice, _, experiment, log = _experiment(app)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "output.log").write_text("TOP-SECRET\n")
    log.parent.rmdir()
    log.parent.symlink_to(elsewhere)

    response = _api_log(client, alice, experiment)()

    assert (response.status_code, response.data) == (200, b"")


def test_outputs_list_only_regular_files(app, client, tmp_path):
    alice, group, experiment, _ = _experiment(app)
    outputs = paths.experiment_outputs_dir(app.config, "alice", "demo", group.id, experiment.id)
    (outputs / "ckpt").mkdir(parents=True)
    (outputs / "ckpt" / "model.bin").write_bytes(b"x" * 3)
    os.mkfifo(outputs / "fifo")
    _socket_at(outputs / "socket")
    (tmp_path / "secret.txt").write_text("TOP-SECRET\n")
    (outputs / "link").symlink_to(tmp_path / "secret.txt")
    (outputs / "linked-folder").symlink_to(tmp_path)

    headers = auth(make_token(alice))
    response = _finishes(
        lambda: client.get(
            f"/api/v1/alice/demo/experiments/{experiment.id}/outputs/", headers=headers
        )
    )

    assert response.json == [{"path": "ckpt/model.bin", "size": 3}]


def test_outputs_folder_linked_elsewhere_lists_nothing(app, client, tmp_path):
    alice, group, experiment, _ = _experiment(app)
    outputs = paths.experiment_outputs_dir(app.config, "alice", "demo", group.id, experiment.id)
    (tmp_path / "secret.txt").write_text("TOP-SECRET\n")
    outputs.symlink_to(tmp_path)

    response = client.get(
        f"/api/v1/alice/demo/experiments/{experiment.id}/outputs/", headers=auth(make_token(alice))
    )

    assert (response.status_code, response.json) == (200, [])


# ---- the helper and the runner's tail() ---------------------------------------------------


def test_open_regular_reads_a_regular_file(tmp_path):
    path = tmp_path / "output.log"
    path.write_bytes(b"epoch 1\n")

    with open_regular(path) as handle:
        assert handle.read() == b"epoch 1\n"


def test_open_regular_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "output.log"
    os.mkfifo(fifo)

    assert _finishes(lambda: open_regular(fifo), fifo=fifo) is None


def test_open_regular_refuses_a_socket(tmp_path):
    path = tmp_path / "output.log"
    _socket_at(path)

    assert _finishes(lambda: open_regular(path)) is None


def test_open_regular_refuses_a_link_to_a_regular_file(tmp_path):
    (tmp_path / "secret.txt").write_text("TOP-SECRET\n")
    (tmp_path / "output.log").symlink_to(tmp_path / "secret.txt")

    assert open_regular(tmp_path / "output.log") is None


def test_open_regular_refuses_a_path_through_a_linked_folder(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "output.log").write_text("TOP-SECRET\n")
    (tmp_path / "logs").symlink_to(tmp_path / "real")

    assert open_regular(tmp_path / "logs" / "output.log") is None


def test_open_regular_answers_none_for_a_missing_file(tmp_path):
    assert open_regular(tmp_path / "missing" / "output.log") is None


def test_regular_files_lists_relative_paths_and_sizes_without_following_links(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f").write_bytes(b"12")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "up").symlink_to(tmp_path / "a")

    assert _finishes(lambda: regular_files(tmp_path)) == [("a/b/f", 2)]


def test_tail_of_a_fifo_is_empty_without_blocking(tmp_path):
    fifo = tmp_path / "output.log"
    os.mkfifo(fifo)

    assert _finishes(lambda: tail(fifo), fifo=fifo) == ""


def test_tail_gives_the_last_lines_of_a_regular_log(tmp_path):
    path = tmp_path / "output.log"
    path.write_text("one\ntwo\nthree\n")

    assert tail(path, lines=2) == "two\nthree"
