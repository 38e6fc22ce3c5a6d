"""Why a group ended: its final status message, shown in the group page's header."""

from bs4 import BeautifulSoup
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, GroupStatus
from dashboard.services.group import groups, statuses
from dashboard.services.project.access import project_access
from dashboard.services.run import advance
from tests.factories import auth, grid_yml, make_group, make_project, make_token, make_user
from tests.support.web import sign_in

EARLY_STOPPING_YML = (
    "version: 1\nkind: group\nhptuning:\n  concurrency: 2\n"
    "  early_stopping: [{metric: accuracy, value: 0.97, optimization: maximize}]\n"
    "  matrix:\n    x: {values: [0, 1, 2]}\nrun:\n  cmd: echo {{ x }}\n"
)


def _group(content=None):
    alice = make_user("alice")
    project = make_project(alice, "demo")
    return alice, project, make_group(project, content=content or grid_yml(3))


def _last_message(group):
    return db.session.scalars(
        select(GroupStatus.message)
        .where(GroupStatus.group_id == group.id)
        .order_by(GroupStatus.id.desc())
    ).first()


def _finish_experiments(group, outcomes):
    experiments = db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    for experiment, outcome in zip(experiments, outcomes, strict=True):
        for step in ("scheduled", "starting", "running"):
            statuses.set_experiment_status(experiment, step)
        statuses.set_experiment_status(experiment, outcome)
    db.session.commit()


def test_finished_search_counts_succeeded_and_failed_experiments(app):
    _, _, group = _group()
    _finish_experiments(group, ["succeeded", "failed", "succeeded"])

    advance.advance_groups()  # created -> running -> finished in one pass: nothing is unfinished

    assert _last_message(group) == "Search complete: 3 experiments (2 succeeded, 1 failed)."


def test_finished_search_names_experiments_stopped_one_by_one(app):
    _, _, group = _group()
    _finish_experiments(group, ["succeeded", "stopped", "succeeded"])

    advance.advance_groups()

    assert _last_message(group) == (
        "Search complete: 3 experiments (2 succeeded, 0 failed, 1 stopped)."
    )


def test_every_experiment_failing_says_so(app):
    _, _, group = _group()
    _finish_experiments(group, ["failed"] * 3)

    advance.advance_groups()

    assert _last_message(group) == "Every experiment failed."


def test_early_stopping_names_the_rule_and_the_experiment(app, client):
    alice, _, group = _group(EARLY_STOPPING_YML)
    experiment_id = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()[1]

    response = client.post(
        f"/api/v1/alice/demo/experiments/{experiment_id}/metrics/",
        json={"values": {"accuracy": 0.98}},
        headers=auth(make_token(alice)),
    )

    assert response.status_code == 201
    assert _last_message(group) == (
        f"Early stopping: accuracy reached 0.98 (>= 0.97) in experiment {experiment_id}."
    )


def test_stop_by_a_user_names_the_user(app, client):
    alice, _, group = _group()

    response = client.post(
        f"/api/v1/alice/demo/groups/{group.id}/stop/", headers=auth(make_token(alice))
    )

    assert response.status_code == 200
    assert _last_message(group) == "Stopped by alice."


def test_stop_with_a_message_keeps_the_message(app):
    alice, _, group = _group()

    groups.stop_group(
        project_access("alice", "demo", actor=alice), group.id, message="Budget exhausted."
    )

    assert _last_message(group) == "Budget exhausted."


def test_group_page_header_shows_why_the_group_ended(app, client):
    alice, _, group = _group()
    sign_in(client, "alice")
    client.post(
        f"/alice/demo/groups/{group.id}/stop",
        data={},
        headers={"HX-Request": "true", "X-CSRFToken": _csrf(client)},
    )

    page = BeautifulSoup(client.get(f"/alice/demo/groups/{group.id}/").data, "html.parser")

    reason = page.select_one("#group-header #group-reason")
    assert reason is not None
    assert reason.get_text(" ", strip=True) == "Ended: Stopped by alice."


def test_group_page_header_has_no_reason_while_the_group_runs(app, client):
    _, _, group = _group()
    sign_in(client, "alice")

    page = BeautifulSoup(client.get(f"/alice/demo/groups/{group.id}/").data, "html.parser")

    assert page.select_one("#group-header") is not None
    assert page.select_one("#group-reason") is None


def _csrf(client):
    page = BeautifulSoup(client.get("/").data, "html.parser")
    return page.select_one("body")["hx-headers"].split('"')[3]
