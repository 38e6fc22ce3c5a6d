"""Selection TensorBoards: one TensorBoard over chosen experiments of a project, through the API,
the pages and the proxy (real TensorBoard processes, stopped by conftest after each test)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from dashboard.errors import ValidationError
from dashboard.extensions import db
from dashboard.models import TensorboardJob, User
from dashboard.processes.tensorboard import is_tensorboard
from dashboard.services.experiment.credentials import issue_experiment_token
from dashboard.services.group import tensorboards as group_tensorboards
from dashboard.services.project import tensorboards
from dashboard.services.project.access import project_access
from dashboard.storage import paths
from tests.factories import (
    add_member,
    auth,
    first_experiment_id,
    grid_yml,
    make_group,
    make_token,
    make_user,
    owner_with_group,
    sign_in_cookie,
    write_scalar,
)
from tests.support.contract import TENSORBOARD_KEYS
from tests.support.web import form_csrf, poll

API = "/api/v1/root/quick-start/tensorboards/"
# Section 5's job, and the experiments a selection serves.
KEYS = TENSORBOARD_KEYS | {"experiments"}


@pytest.fixture
def world(app):
    """root's project with a group of three experiments, each having written a scalar."""
    owner = owner_with_group(grid_yml(3))
    for experiment in owner.experiments:
        write_scalar(_outputs(app, owner, experiment.id))
    return owner


def _outputs(app, owner, experiment_id):
    return paths.experiment_outputs_dir(
        app.config, "root", "quick-start", owner.group.id, experiment_id
    )


def _ids(world, *indexes):
    return [world.experiments[i].id for i in indexes]


def _start(client, world, ids):
    return client.post(API, json={"experiments": ids}, headers=world.headers)


def _browser(app, world):
    client = app.test_client()
    sign_in_cookie(client, world.user)
    return client


def test_start_answers_the_job_over_the_chosen_experiments(client, world):
    first, third = _ids(world, 0, 2)
    response = _start(client, world, [third, first])

    assert response.status_code == 201
    job = response.json
    assert set(job) == KEYS
    assert job["experiment_group"] is None
    assert job["experiments"] == [first, third]
    assert job["last_status"] == "running"
    assert job["unique_name"] == f"root.quick-start.tensorboards.{job['id']}"
    assert job["url"] == f"/tensorboard/root/quick-start/selections/{job['id']}/"


def test_the_tensorboard_shows_exactly_the_chosen_experiments_as_runs(app, client, world):
    first, third = _ids(world, 0, 2)
    job = _start(client, world, [first, third]).json

    runs = poll(_browser(app, world), job["url"] + "data/runs", lambda r: r.status_code == 200)

    # TensorBoard names a run by its spec name and its folder below: `.` for the top.
    assert sorted(runs.json) == [f"experiment-{first}/.", f"experiment-{third}/."]


def test_experiments_without_outputs_show_no_runs(app, client, world):
    lonely = first_experiment_id(make_group(world.project, content=grid_yml(1)))
    (second,) = _ids(world, 1)
    job = _start(client, world, [second, lonely]).json

    runs = poll(_browser(app, world), job["url"] + "data/runs", lambda r: r.status_code == 200)

    assert runs.json == [f"experiment-{second}/."]


def test_starting_the_same_selection_again_answers_the_running_one(client, world):
    ids = _ids(world, 0, 1)
    started = _start(client, world, ids).json

    again = _start(client, world, list(reversed(ids)))

    assert again.status_code == 200
    assert again.json["id"] == started["id"]
    assert _start(client, world, _ids(world, 0)).status_code == 201  # another selection


@pytest.mark.parametrize(
    ("experiments", "message"),
    [
        ([], "List should have at least 1 item"),
        (list(range(1, 52)), "List should have at most 50 items"),
        (["1"], "Input should be a valid integer"),
        ([True], "Input should be a valid integer"),
        ([1.5], "Input should be a valid integer"),
        ("1,2", "Input should be a valid list"),
        ([0], "Not experiment ids: 0."),
        ([2**40], "Not experiment ids: 1099511627776."),
    ],
)
def test_a_bad_list_is_400_naming_the_problem(client, world, experiments, message):
    response = _start(client, world, experiments)

    assert response.status_code == 400
    errors = [text for field, texts in response.json.items() for text in texts]
    assert all(field.startswith("experiments") for field in response.json)
    assert any(message in text for text in errors), response.json
    assert db.session.scalar(select(TensorboardJob.id)) is None


def test_duplicates_are_400_naming_them(client, world):
    first, second = _ids(world, 0, 1)

    response = _start(client, world, [first, second, first])

    assert response.status_code == 400
    assert response.json == {"experiments": [f"Experiments given twice: {first}."]}


def test_experiments_of_another_project_or_none_are_400_naming_them(client, world):
    outside = owner_with_group(grid_yml(1), username="eve", project_name="other").experiments[0].id
    (mine,) = _ids(world, 0)

    response = _start(client, world, [mine, outside, 99999])

    assert response.status_code == 400
    assert response.json == {"experiments": [f"No experiment {outside}, 99999 in this project."]}


def test_list_pages_the_projects_tensorboards_newest_first(client, world):
    access = project_access("root", "quick-start", actor=world.user)
    group_job, _ = group_tensorboards.start_tensorboard(access, world.group.id)
    selection = _start(client, world, _ids(world, 1)).json

    page = client.get(API + "?limit=1", headers=world.headers).json

    assert page["count"] == 2 and page["previous"] is None
    assert page["next"].endswith("?limit=1&offset=1")
    assert page["results"][0]["id"] == selection["id"]
    rest = client.get(page["next"], headers=world.headers).json["results"]
    assert [(r["id"], r["experiment_group"], r["experiments"]) for r in rest] == [
        (group_job.id, world.group.id, None)
    ]
    assert rest[0]["url"] == f"/tensorboard/root/quick-start/groups/{world.group.id}/"


def test_get_answers_one_job_and_404_for_another_projects(client, world):
    job = _start(client, world, _ids(world, 0)).json
    other = owner_with_group(grid_yml(1), username="eve", project_name="elsewhere")

    assert client.get(f"{API}{job['id']}/", headers=world.headers).json == job | {
        "updated_at": client.get(f"{API}{job['id']}", headers=world.headers).json["updated_at"]
    }
    foreign = client.get(f"/api/v1/eve/elsewhere/tensorboards/{job['id']}/", headers=other.headers)
    assert foreign.status_code == 404


def test_stop_ends_the_process_and_answers_the_stopped_job(client, world):
    job = _start(client, world, _ids(world, 0)).json
    row = db.session.get(TensorboardJob, job["id"])
    pid, port = row.pid, row.port

    stopped = client.post(f"{API}{job['id']}/stop/", headers=world.headers)

    assert stopped.status_code == 200
    assert stopped.json["last_status"] == "stopped" and stopped.json["finished_at"]
    assert not is_tensorboard(pid, port)
    assert client.post(f"{API}{job['id']}/stop/", headers=world.headers).status_code == 200


def test_stopping_an_old_group_job_leaves_the_running_one(client, world):
    access = project_access("root", "quick-start", actor=world.user)
    old, _ = group_tensorboards.start_tensorboard(access, world.group.id)
    group_tensorboards.stop_tensorboard(access, world.group.id)
    current, _ = group_tensorboards.start_tensorboard(access, world.group.id)

    client.post(f"{API}{old.id}/stop/", headers=world.headers)

    assert db.session.get(TensorboardJob, current.id).status == "running"


def test_viewers_read_and_open_but_cannot_start_or_stop(app, client, world):
    viewer = make_user("bob")
    add_member(world.project, viewer, "viewer")
    headers = auth(make_token(viewer))
    job = _start(client, world, _ids(world, 0)).json

    assert client.get(API, headers=headers).json["count"] == 1
    assert client.get(f"{API}{job['id']}/", headers=headers).status_code == 200
    assert client.post(API, json={"experiments": [1]}, headers=headers).status_code == 403
    assert client.post(f"{API}{job['id']}/stop/", headers=headers).status_code == 403
    browser = app.test_client()
    sign_in_cookie(browser, viewer)
    assert poll(browser, job["url"] + "data/runs", lambda r: r.status_code == 200).json


def test_an_experiments_own_key_cannot_start_one(client, world):
    key = issue_experiment_token(world.experiments[0])
    db.session.commit()

    response = client.post(API, json={"experiments": _ids(world, 0)}, headers=auth(key))

    assert response.status_code == 403


def test_proxy_refuses_anonymous_outsiders_and_other_projects_paths(app, client, world):
    world.project.is_public = False
    db.session.commit()
    job = _start(client, world, _ids(world, 0)).json
    assert client.get(job["url"]).headers["Location"].startswith("/login")
    other = owner_with_group(grid_yml(1), username="eve", project_name="elsewhere")
    eve = app.test_client()
    sign_in_cookie(eve, other.user)
    assert eve.get(job["url"]).status_code == 404
    # eve's own project does not lend its name to root's selection
    assert eve.get(f"/tensorboard/eve/elsewhere/selections/{job['id']}/").status_code == 404
    # nor is a selection a group's TensorBoard
    browser = _browser(app, world)
    assert browser.get(f"/tensorboard/root/quick-start/groups/{job['id']}/").status_code == 404


def test_idle_selection_is_stopped(client, world):
    job = _start(client, world, _ids(world, 0)).json
    row = db.session.get(TensorboardJob, job["id"])
    pid, port = row.pid, row.port

    assert group_tensorboards.stop_idle(0) == 1

    assert db.session.get(TensorboardJob, job["id"]).status == "stopped"
    assert not is_tensorboard(pid, port)


def test_compare_page_button_posts_the_compared_experiments(app, world):
    browser = _browser(app, world)
    ids = _ids(world, 0, 2)
    page = browser.get(f"/root/quick-start/compare?experiments={ids[0]},{ids[1]}")
    form = BeautifulSoup(page.data, "html.parser").select_one("#compare-tensorboard").parent
    fields = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    assert fields["experiments"] == f"{ids[0]},{ids[1]}"

    response = browser.post(form["action"], data=fields)

    job = db.session.scalars(select(TensorboardJob)).one()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/tensorboard/root/quick-start/selections/{job.id}/"
    assert job.experiment_ids == ids


def test_group_compare_form_asks_then_posts_without_javascript(app, world):
    browser = _browser(app, world)
    page = BeautifulSoup(
        browser.get(f"/root/quick-start/groups/{world.group.id}/").data, "html.parser"
    )
    button = page.select_one("#group-compare #compare-tensorboard")
    ids = ",".join(map(str, _ids(world, 0, 1)))

    asked = browser.get(f"{button['formaction']}?experiments={ids}")
    form = BeautifulSoup(asked.data, "html.parser").select_one("#selection-start").parent
    response = browser.post(
        form["action"], data={i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    )

    assert response.status_code == 302
    assert db.session.scalars(select(TensorboardJob.experiment_ids)).one() == _ids(world, 0, 1)
    assert button["hx-post"] == form["action"] == "/root/quick-start/tensorboards"


def test_htmx_start_redirects_to_the_tensorboard(app, world):
    browser = _browser(app, world)
    csrf = form_csrf(browser, f"/root/quick-start/groups/{world.group.id}/")
    headers = {"HX-Request": "true", "X-CSRFToken": csrf}

    started = browser.post(
        "/root/quick-start/tensorboards", data={"experiments": "x"}, headers=headers
    )
    assert started.status_code == 400 and started.headers["HX-Retarget"] == "#flash"
    response = browser.post(
        "/root/quick-start/tensorboards", data={"experiments": "1, 1"}, headers=headers
    )
    assert response.status_code == 400 and b"given twice" in response.data

    (first,) = _ids(world, 0)
    response = browser.post(
        "/root/quick-start/tensorboards", data={"experiments": str(first)}, headers=headers
    )

    job = db.session.scalars(select(TensorboardJob)).one()
    assert response.headers["HX-Redirect"] == f"/tensorboard/root/quick-start/selections/{job.id}/"


def test_viewers_are_not_offered_the_button(app, world):
    viewer = make_user("bob")
    add_member(world.project, viewer, "viewer")
    browser = app.test_client()
    sign_in_cookie(browser, viewer)
    ids = _ids(world, 0, 1)

    compare = browser.get(f"/root/quick-start/compare?experiments={ids[0]},{ids[1]}")
    group = browser.get(f"/root/quick-start/groups/{world.group.id}/")

    assert b"compare-tensorboard" not in compare.data + group.data


def test_the_service_checks_ids_for_every_caller(world):
    access = project_access("root", "quick-start", actor=world.user)
    with pytest.raises(ValidationError, match="Choose at least one experiment"):
        tensorboards.start_selection(access, [])


def _start_in_own_session(app, user_id, ids, barrier):
    """Start the selection from a thread of its own: its own app context, session, connection."""
    with app.app_context():
        try:
            actor = db.session.get(User, user_id)
            access = project_access("root", "quick-start", actor=actor)
            barrier.wait(timeout=30)
            job, created = tensorboards.start_selection(access, ids)
            return job.id, created
        finally:
            db.session.remove()


def test_two_identical_starts_at_once_launch_one_tensorboard(app, world):
    ids = _ids(world, 0, 1)
    barrier = threading.Barrier(2)

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(_start_in_own_session, app, world.user.id, ids, barrier) for _ in range(2)
        ]
        answers = sorted((future.result(timeout=120) for future in futures), key=lambda a: a[1])

    db.session.expire_all()
    jobs = db.session.scalars(select(TensorboardJob)).all()
    assert len(jobs) == 1, [(job.id, job.status, job.pid) for job in jobs]
    assert answers == [(jobs[0].id, False), (jobs[0].id, True)]
    assert jobs[0].status == "running" and is_tensorboard(jobs[0].pid, jobs[0].port)
