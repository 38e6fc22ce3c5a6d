"""The group's TensorBoard through the dashboard: proxy, access, page controls, idle stop."""

from bs4 import BeautifulSoup
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import TensorboardJob
from dashboard.processes.tensorboard import is_tensorboard
from dashboard.services.group import tensorboards
from dashboard.services.project.access import project_access
from tests.factories import make_group, make_project, make_user, write_scalar
from tests.support.web import form_csrf, poll, sign_in


def _group_with_run(app):
    alice = make_user("alice", "secret-pw")
    project = make_project(alice, "demo", public=False)
    group = make_group(project)
    outputs = tensorboards.group_outputs_dir(project, group.id)
    write_scalar(outputs / "experiments" / "1" / "outputs")
    return alice, project, group


def test_runs_are_served_through_the_dashboard_url(app, client):
    alice, project, group = _group_with_run(app)
    sign_in(client, "alice", "secret-pw")
    page = client.get(f"/alice/demo/groups/{group.id}/")
    start_url = BeautifulSoup(page.data, "html.parser").select_one("#tensorboard-start")["hx-post"]
    client.post(
        start_url, data={"csrf_token": form_csrf(client, f"/alice/demo/groups/{group.id}/")}
    )

    base = f"/tensorboard/alice/demo/groups/{group.id}/"
    runs = poll(client, base + "data/runs", lambda r: r.status_code == 200 and r.json)
    assert runs.json == ["experiments/1/outputs"]
    index = client.get(base)
    assert index.status_code == 200 and b"<html" in index.data.lower()
    page = BeautifulSoup(client.get(f"/alice/demo/groups/{group.id}/").data, "html.parser")
    assert page.select_one("#tensorboard-open")["href"] == base
    assert "started by alice" in page.select_one("#group-tensorboard").text


def test_proxy_refuses_anonymous_and_outsiders(app, client):
    alice, project, group = _group_with_run(app)
    tensorboards.start_tensorboard(project_access("alice", "demo", actor=alice), group.id)
    base = f"/tensorboard/alice/demo/groups/{group.id}/data/runs"
    assert client.get(base).headers["Location"].startswith("/login")
    make_user("mallory", "secret-pw")
    sign_in(client, "mallory", "secret-pw")
    assert client.get(base).status_code == 404


def test_proxy_without_a_running_tensorboard_is_404(app, client):
    alice, project, group = _group_with_run(app)
    sign_in(client, "alice", "secret-pw")
    response = client.get(f"/tensorboard/alice/demo/groups/{group.id}/")
    assert response.status_code == 404
    assert "not running" in BeautifulSoup(response.data, "html.parser").text


def test_idle_tensorboard_is_stopped(app):
    alice, project, group = _group_with_run(app)
    job, _ = tensorboards.start_tensorboard(project_access("alice", "demo", actor=alice), group.id)
    pid, port = job.pid, job.port
    assert tensorboards.stop_idle(3600) == 0
    assert tensorboards.stop_idle(0) == 1
    job = db.session.scalars(select(TensorboardJob)).one()
    assert job.status == "stopped"
    assert not is_tensorboard(pid, port)
