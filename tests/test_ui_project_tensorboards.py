"""The project page's TensorBoards section: the running ones of both kinds with Open and Stop,
Stop without JavaScript and with htmx (real TensorBoard processes, stopped by conftest)."""

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import TensorboardJob, TensorboardStatus
from dashboard.processes.tensorboard import is_tensorboard
from dashboard.services.group import tensorboards as group_tensorboards
from dashboard.services.project import tensorboards
from dashboard.services.project.access import project_access
from tests.factories import (
    add_member,
    grid_yml,
    make_user,
    owner_with_group,
    sign_in_cookie,
)

PAGE = "/root/quick-start/"


@pytest.fixture
def world(app):
    """root's project with a group of three experiments; root's browser signed in."""
    owner = owner_with_group(grid_yml(3))
    owner.access = project_access("root", "quick-start", actor=owner.user)
    return owner


def _browser(app, user):
    client = app.test_client()
    sign_in_cookie(client, user)
    return client


def _select(world, *indexes):
    ids = [world.experiments[i].id for i in indexes]
    job, _ = tensorboards.start_selection(world.access, ids)
    return job


def _section(client):
    response = client.get(PAGE)
    assert response.status_code == 200
    return BeautifulSoup(response.data, "html.parser").select_one("#project-tensorboards")


def _stop_form(section, job):
    form = section.select_one(f"#tensorboard-stop-{job.id}").parent
    return form["action"], {i["name"]: i["value"] for i in form.select("input[type=hidden]")}


def _csrf(client):
    """The session's CSRF token, from a form of the project page (a group's star)."""
    page = BeautifulSoup(client.get(PAGE).data, "html.parser")
    return {"X-CSRFToken": page.select_one("input[name=csrf_token]")["value"]}


def _running(job):
    db.session.expire_all()
    row = db.session.get(TensorboardJob, job.id)
    return row.status == "running" and is_tensorboard(row.pid, row.port)


def test_the_section_lists_a_groups_and_a_selections_tensorboard_newest_first(app, world):
    group_job, _ = group_tensorboards.start_tensorboard(world.access, world.group.id)
    selection = _select(world, 0, 2)
    first, third = world.experiments[0].id, world.experiments[2].id
    gone = _select(world, 1)
    tensorboards.stop_job(world.access, gone.id)

    section = _section(_browser(app, world.user))

    rows = section.select("#tensorboards-table tbody tr")
    assert [row["id"] for row in rows] == [
        f"tensorboard-{selection.id}",
        f"tensorboard-{group_job.id}",
    ]
    shows = rows[0].select_one(".tensorboard-shows")
    assert " ".join(shows.get_text().split()) == f"Experiments {first}, {third}"
    group_url = f"{PAGE}groups/{world.group.id}"
    assert [a["href"] for a in shows.select("a")] == [
        f"{group_url}/experiments/{first}/",
        f"{group_url}/experiments/{third}/",
    ]
    group_link = rows[1].select_one("a.tensorboard-group")
    assert group_link["href"] == f"{group_url}/"
    assert group_link.text == f"root.quick-start.{world.group.id}"
    opens = [row.select_one("a[id^=tensorboard-open-]")["href"] for row in rows]
    assert opens == [
        f"/tensorboard/root/quick-start/selections/{selection.id}/",
        f"/tensorboard/root/quick-start/groups/{world.group.id}/",
    ]
    for row, job in zip(rows, (selection, group_job), strict=True):
        button = row.select_one("form button[type=submit]")
        url = f"/root/quick-start/tensorboards/{job.id}/stop"
        assert button["hx-post"] == button.parent["action"] == url
        assert button["hx-target"] == "#project-tensorboards"
    assert "(2 running)" in section.h2.text


def test_stop_without_javascript_ends_the_process_and_comes_back_to_the_page(app, world):
    job = _select(world, 0)
    browser = _browser(app, world.user)
    action, fields = _stop_form(_section(browser), job)
    pid, port = job.pid, job.port

    response = browser.post(action, data=fields)

    assert response.status_code == 302 and response.headers["Location"] == PAGE
    assert not is_tensorboard(pid, port)
    assert db.session.get(TensorboardJob, job.id).status == "stopped"
    page = BeautifulSoup(browser.get(PAGE).data, "html.parser")
    assert f"TensorBoard {job.id} stopped." in page.select_one("#flash").text
    assert page.select_one("#no-tensorboards") is not None


def test_htmx_stop_of_a_groups_tensorboard_answers_the_section_without_it(app, world):
    group_job, _ = group_tensorboards.start_tensorboard(world.access, world.group.id)
    selection = _select(world, 1)
    browser = _browser(app, world.user)
    action, fields = _stop_form(_section(browser), group_job)

    response = browser.post(
        action, headers={"HX-Request": "true", "X-CSRFToken": fields["csrf_token"]}
    )

    assert response.status_code == 200
    section = BeautifulSoup(response.data, "html.parser")
    assert section.select_one("section")["id"] == "project-tensorboards"
    assert [row["id"] for row in section.select("tbody tr")] == [f"tensorboard-{selection.id}"]
    assert not _running(group_job) and _running(selection)
    assert group_tensorboards.latest_job(world.group.id).status == "stopped"


def test_viewers_see_the_list_without_stop_and_are_refused_the_post(app, world):
    job = _select(world, 0)
    viewer = make_user("bob")
    add_member(world.project, viewer, "viewer")
    browser = _browser(app, viewer)
    section = _section(browser)
    action, _ = _stop_form(_section(_browser(app, world.user)), job)

    response = browser.post(action, headers=_csrf(browser))

    assert section.select_one(f"#tensorboard-open-{job.id}") is not None
    assert section.select("form") == [] and section.select("[hx-post]") == []
    assert response.status_code == 403
    assert _running(job)


def test_an_unknown_or_another_projects_tensorboard_is_404(app, world):
    other = owner_with_group(grid_yml(1), username="eve", project_name="elsewhere")
    access = project_access("eve", "elsewhere", actor=other.user)
    theirs, _ = tensorboards.start_selection(access, [other.experiments[0].id])
    browser = _browser(app, world.user)
    csrf = _csrf(browser)

    unknown = browser.post("/root/quick-start/tensorboards/999999/stop", headers=csrf)
    foreign = browser.post(f"/root/quick-start/tensorboards/{theirs.id}/stop", headers=csrf)

    assert unknown.status_code == foreign.status_code == 404
    assert _running(theirs)


def test_stopping_a_stopped_tensorboard_again_changes_nothing(app, world):
    job = _select(world, 0)
    browser = _browser(app, world.user)
    action, fields = _stop_form(_section(browser), job)
    assert browser.post(action, data=fields).status_code == 302
    db.session.expire_all()
    finished = db.session.get(TensorboardJob, job.id).finished_at
    statuses = db.session.scalars(
        select(TensorboardStatus.status).where(TensorboardStatus.job_id == job.id)
    ).all()

    again = browser.post(action, data=fields)

    assert again.status_code == 302 and again.headers["Location"] == PAGE
    db.session.expire_all()
    assert db.session.get(TensorboardJob, job.id).finished_at == finished
    assert (
        db.session.scalars(
            select(TensorboardStatus.status).where(TensorboardStatus.job_id == job.id)
        ).all()
        == statuses
    )


def _fake_running(world, count):
    """`count` running selection jobs without a process (the list reads rows, not processes)."""
    first = world.experiments[0].id
    db.session.add_all(
        TensorboardJob(
            project_id=world.project.id,
            user_id=world.user.id,
            experiment_ids=[first],
            status="running",
        )
        for _ in range(count)
    )
    db.session.commit()


def test_the_newest_twenty_are_shown_with_the_count_of_all(app, world):
    _fake_running(world, 23)

    section = _section(_browser(app, world.user))

    ids = [int(row["id"].removeprefix("tensorboard-")) for row in section.select("tbody tr")]
    assert len(ids) == 20 and ids == sorted(ids, reverse=True)
    assert ids[0] == db.session.scalar(select(TensorboardJob.id).order_by(TensorboardJob.id.desc()))
    assert "The newest 20 of 23 running" in section.select_one("#tensorboards-more").text


def test_the_page_takes_as_many_statements_for_many_tensorboards_as_for_one(
    app, world, count_queries
):
    browser = _browser(app, world.user)
    _fake_running(world, 1)
    with count_queries() as one:
        browser.get(PAGE)
    _fake_running(world, 5)
    group_tensorboards.start_tensorboard(world.access, world.group.id)
    with count_queries() as many:
        section = _section(browser)

    assert len(section.select("tbody tr")) == 7
    assert len(many) == len(one)
