"""A TensorBoard answers only under its job's secret prefix, which only the dashboard's proxy
knows: a loopback scan by an experiment reaches nothing, and the browser never sees the secret."""

import gzip
import json

import pytest
import requests
from bs4 import BeautifulSoup
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import TensorboardJob
from dashboard.processes.tensorboard import is_tensorboard, start_tensorboard, wait_until_serving
from dashboard.services.group import tensorboards
from dashboard.services.project.access import project_access
from dashboard.ui.reverse_proxy import cut_out
from tests.factories import (
    add_member,
    auth,
    make_group,
    make_project,
    make_token,
    make_user,
    sign_in_cookie,
)
from tests.support.contract import TENSORBOARD_KEYS  # as before the secret: no key more

# What an experiment on the machine could scan for before: the public prefix, or the root.
PUBLIC = "/tensorboard/alice/demo/groups/{gid}/"


@pytest.fixture
def world(app):
    """alice's private project with one group, and bob who may view it."""
    alice = make_user("alice")
    project = make_project(alice, "demo", public=False)
    group = make_group(project)
    bob = make_user("bob")
    add_member(project, bob, "viewer")
    return alice, bob, project, group


@pytest.fixture
def running(world):
    """The group's TensorBoard, started by alice and serving (its job row)."""
    alice, _, _, group = world
    job, _ = tensorboards.start_tensorboard(project_access("alice", "demo", actor=alice), group.id)
    assert wait_until_serving(job.host, job.port, timeout=60, pid=job.pid)
    return job


def _signed_in(app, user):
    client = app.test_client()
    sign_in_cookie(client, user)
    return client


def _direct(job, path):
    """GET straight at the TensorBoard's port, as an experiment on the machine could."""
    return requests.get(f"http://{job.host}:{job.port}{path}", timeout=30, allow_redirects=False)


def _leaks(response, secret):
    """Where the secret shows in an answer of the proxy (empty: nowhere)."""
    places = [f"header {k}" for k, v in response.headers.items() if secret in v]
    body = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":  # as the browser would read it
        body = gzip.decompress(body)
    return places + (["body"] if secret.encode() in body else [])


def test_viewer_opens_the_tensorboard_page_through_the_proxy(app, world, running):
    _, bob, _, group = world
    page = _signed_in(app, bob).get(PUBLIC.format(gid=group.id))
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert BeautifulSoup(page.data, "html.parser").select_one("tb-webapp")
    assert _leaks(page, running.path_secret) == []


def test_no_answer_of_the_proxy_shows_the_secret(app, world, running):
    _, bob, _, group = world
    client = _signed_in(app, bob)
    base = PUBLIC.format(gid=group.id)
    # Each one TensorBoard answers with its prefix in it (Location, module_path, flags), then
    # the page's own script and data, asked compressed as a browser does.
    paths = (
        "experiment/x",
        "data/plugins_listing",
        "data/environment",
        "",
        "index.js",
        "data/runs",
        "data/plugin_entry.html?name=projector",
        "audio",
        "no-such-page",
    )
    for path in paths:
        response = client.get(base + path, headers={"Accept-Encoding": "gzip, deflate"})
        assert response.status_code in (200, 301, 302, 404), path
        assert _leaks(response, running.path_secret) == [], path


def test_tensorboards_own_redirect_points_through_the_proxy(app, world, running):
    _, bob, _, group = world
    base = PUBLIC.format(gid=group.id)
    response = _signed_in(app, bob).get(base + "experiment/x")
    assert response.status_code == 301
    assert response.headers["Location"] == base + "experiment/x/"


def test_plugin_modules_and_flags_name_the_public_prefix(app, world, running):
    _, bob, _, group = world
    client = _signed_in(app, bob)
    base = PUBLIC.format(gid=group.id)
    listing = client.get(base + "data/plugins_listing").json
    assert listing["projector"]["loading_mechanism"]["module_path"] == (
        base + "data/plugin/projector/index.js"
    )
    flags = client.get(base + "data/environment").json["debug"]["flags"]
    assert flags["path_prefix"] == base.rstrip("/")


def test_direct_request_at_the_public_prefix_or_the_root_is_404(world, running):
    group = world[3]
    for path in ("/", PUBLIC.format(gid=group.id), PUBLIC.format(gid=group.id) + "data/runs"):
        assert _direct(running, path).status_code == 404, path


def test_direct_request_under_the_secret_prefix_is_served(world, running):
    group = world[3]
    served = _direct(running, f"/{running.path_secret}{PUBLIC.format(gid=group.id)}")
    assert served.status_code == 200 and b"<tb-webapp" in served.content


def test_each_tensorboard_has_its_own_long_secret(app, world, running):
    alice, _, project, _ = world
    other = make_group(project)
    second, _ = tensorboards.start_tensorboard(
        project_access("alice", "demo", actor=alice), other.id
    )
    assert len(running.path_secret) >= 43 and len(second.path_secret) >= 43
    assert running.path_secret != second.path_secret


def _api_start(app, alice, group):
    return app.test_client().post(
        f"/api/v1/alice/demo/groups/{group.id}/tensorboard/start/", headers=auth(make_token(alice))
    )


def test_api_tensorboard_keeps_its_keys_and_its_public_url(app, world):
    alice, _, _, group = world
    started = _api_start(app, alice, group)
    assert started.status_code == 201
    assert set(started.json) == TENSORBOARD_KEYS
    assert started.json["url"] == PUBLIC.format(gid=group.id)


def test_no_page_api_answer_or_timeline_shows_the_secret(app, world):
    alice, _, _, group = world
    started = _api_start(app, alice, group)
    secret = db.session.scalars(select(TensorboardJob.path_secret)).one()
    api, headers = f"/api/v1/alice/demo/groups/{group.id}/", auth(make_token(alice))
    client, browser = app.test_client(), _signed_in(app, alice)
    answers = (
        started,
        client.get(api, headers=headers),
        client.get(api + "timeline/", headers=headers),
        browser.get(f"/alice/demo/groups/{group.id}/"),
        browser.get(f"/alice/demo/groups/{group.id}/timeline"),
    )
    for answer in answers:
        assert answer.status_code in (200, 201), answer.request.path
        assert _leaks(answer, secret) == [], answer.request.path
    assert "TensorBoard" in answers[2].get_data(as_text=True)  # the start is on the timeline


@pytest.fixture
def unprotected(world, tmp_path):
    """A job as the dashboard started them before the secret: public prefix, no path_secret."""
    alice, _, _, group = world
    process = start_tensorboard(tmp_path / "logs", path_prefix=PUBLIC.format(gid=group.id))
    job = TensorboardJob(
        project_id=group.project_id,
        group_id=group.id,
        user_id=alice.id,
        status="running",
        host=process.host,
        port=process.port,
        pid=process.pid,
    )
    db.session.add(job)
    db.session.commit()  # the app fixture stops every job's process afterwards
    assert wait_until_serving(process.host, process.port, timeout=60, pid=process.pid)
    return job


def test_proxy_stops_a_tensorboard_started_without_a_secret_and_asks_for_a_restart(
    app, world, unprotected
):
    _, bob, _, group = world
    response = _signed_in(app, bob).get(PUBLIC.format(gid=group.id))
    assert response.status_code == 404
    assert "start it again" in BeautifulSoup(response.data, "html.parser").text
    assert not is_tensorboard(unprotected.pid, unprotected.port)
    assert db.session.get(TensorboardJob, unprotected.id).status == "stopped"


def test_starting_again_replaces_a_tensorboard_started_without_a_secret(world, unprotected):
    alice, _, _, group = world
    job, created = tensorboards.start_tensorboard(
        project_access("alice", "demo", actor=alice), group.id
    )
    assert created and job.id != unprotected.id and job.path_secret
    assert not is_tensorboard(unprotected.pid, unprotected.port)


def test_the_schedulers_check_stops_a_tensorboard_started_without_a_secret(world, unprotected):
    tensorboards.stop_idle(3600)
    assert not is_tensorboard(unprotected.pid, unprotected.port)
    assert db.session.get(TensorboardJob, unprotected.id).status == "stopped"


@pytest.mark.parametrize("size", [1, 2, 5, 7, 64])
def test_the_secret_is_cut_out_even_across_chunks(size):
    body = b'{"a": "/S3CRET/tensorboard/x", "b": "/S3CRE", "c": "/S3CRET/S3CRET"}' * 3
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    cut = b"".join(cut_out(b"/S3CRET", iter(chunks)))
    assert cut == body.replace(b"/S3CRET", b"")
    assert json.loads(cut[: len(cut) // 3])["a"] == "/tensorboard/x"


def test_a_tensorboard_started_without_a_secret_was_open_to_a_loopback_scan(world, unprotected):
    assert _direct(unprotected, PUBLIC.format(gid=world[3].id)).status_code == 200
