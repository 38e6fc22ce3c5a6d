"""Pause, resume, retry and extend from the group page: htmx answers with fragments, plain form
posts (no JavaScript) redirect back with a message; a bad count is a clear message."""

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup
from tests.factories import EXAMPLES, alice_group, grid_yml, move_experiments, start_group
from tests.support.web import csrf_of, sign_in, signed_in_as, soup, url


def htmx(client, group):
    return {"HX-Request": "true", "X-CSRFToken": csrf_of(client, group)}


def fresh(group):
    db.session.expire_all()
    return db.session.get(ExperimentGroup, group.id)


def count(group):
    return len(
        db.session.scalars(select(Experiment.id).where(Experiment.group_id == group.id)).all()
    )


def running_group(content=None):
    _, _, group = alice_group(content)
    start_group(group)
    return group


def test_pause_swaps_in_resume_and_the_header_says_what_is_held(client):
    group = running_group()
    move_experiments(group, 2, "running")
    sign_in(client, "alice")

    response = client.post(url(group, "pause"), headers=htmx(client, group))

    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("#status-badge").text == "paused"
    assert page.select_one("#pause-button") is None and page.select_one("#resume-button")
    assert page.select_one("#group-held").text == (
        "Paused: 8 pending experiments held; 2 running experiments run on. Resume to go on."
    )
    assert fresh(group).status == "paused"

    resumed = soup(client.post(url(group, "resume"), headers=htmx(client, group)))
    assert resumed.select_one("#status-badge").text == "running"
    assert resumed.select_one("#pause-button") and resumed.select_one("#group-held") is None


def test_without_javascript_pause_and_resume_redirect_back_with_a_message(client):
    group = running_group()
    sign_in(client, "alice")
    token = csrf_of(client, group)

    paused = client.post(url(group, "pause"), data={"csrf_token": token})
    assert paused.status_code == 302 and paused.headers["Location"].endswith(url(group))
    page = soup(client.get(url(group)))
    assert "The group is paused." in page.select_one(".flash").text
    assert page.select_one("#resume-button").find_parent("form")["action"] == url(group, "resume")

    client.post(url(group, "resume"), data={"csrf_token": token})
    assert fresh(group).status == "running"


def test_retry_asks_first_and_runs_failed_experiments_again(client):
    group = running_group()
    move_experiments(group, 3, "failed")
    sign_in(client, "alice")
    button = soup(client.get(url(group))).select_one("#retry-button")
    assert button["hx-confirm"].startswith("Run the failed and stopped experiments again (3,")

    response = client.post(url(group, "retry"), headers=htmx(client, group))

    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "group-experiments-changed"
    assert count(group) == 13
    again = client.post(url(group, "retry"), headers=htmx(client, group))
    assert again.status_code == 400
    assert "not retried yet" in soup(again).select_one(".flash-error").text


def test_extend_form_is_labelled_and_adds_experiments_without_javascript(client):
    group = running_group(
        grid_yml(4).replace("  matrix:", "  grid_search: {n_experiments: 2}\n  matrix:")
    )
    sign_in(client, "alice")
    form = soup(client.get(url(group))).select_one("#extend-form")
    field = form.select_one("input[name=n_experiments]")
    assert form.select_one(f"label[for={field['id']}]").text == "Extend by"

    response = client.post(
        url(group, "extend"), data={"csrf_token": csrf_of(client, group), "n_experiments": "2"}
    )

    assert response.status_code == 302
    assert count(group) == 4
    assert "The search is extended by 2." in soup(client.get(url(group))).select_one(".flash").text


def test_a_bad_extend_count_is_a_message_and_changes_nothing(client):
    group = running_group()
    sign_in(client, "alice")
    messages = {
        "": "Extend by a whole number of experiments (at least 1), not ''.",
        "lots": "Extend by a whole number of experiments (at least 1), not 'lots'.",
        "0": "Extend by a whole number of experiments (at least 1), not '0'.",
        "-3": "Extend by a whole number of experiments (at least 1), not '-3'.",
        "9" * 40: "The group has 10 experiments and at most 10000 are allowed; 9990 more can be "
        "added.",
    }
    for typed, message in messages.items():
        response = client.post(
            url(group, "extend"), data={"n_experiments": typed}, headers=htmx(client, group)
        )
        assert response.status_code == 400, typed
        assert soup(response).select_one(".flash-error").text == message
    assert count(group) == 10 and fresh(group).extended_by == 0


def test_hyperband_groups_offer_no_extend(client):
    group = running_group((EXAMPLES / "hyperband.yml").read_text())
    sign_in(client, "alice")
    page = soup(client.get(url(group)))
    assert page.select_one("#pause-button") and page.select_one("#extend-form") is None


def test_viewers_get_no_control_and_cannot_post_one(client):
    _, project, group = alice_group()
    start_group(group)
    move_experiments(group, 1, "failed")
    signed_in_as(client, "val", project, "viewer")
    page = soup(client.get(url(group)))
    for control in ("#pause-button", "#resume-button", "#retry-button", "#extend-form"):
        assert page.select_one(control) is None, control
    response = client.post(url(group, "pause"), headers=htmx(client, group))
    assert response.status_code == 403 and fresh(group).status == "running"
