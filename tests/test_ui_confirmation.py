"""Without JavaScript the server asks before a costly action: a plain post of a form whose
button asks (it carries the question in `confirm`) gets a page with the question, a button
that sends the same form again confirmed, and a Cancel back; nothing changes until then."""

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup
from tests.factories import start_group
from tests.support.web import csrf_of, form_csrf, soup, url

QUESTION = "Stop the pending experiments? 10 created experiments are stopped."


def status_of(group):
    db.session.expire_all()
    return db.session.get(ExperimentGroup, group.id).status


def stop_pending(client, group, **extra):
    data = {"csrf_token": csrf_of(client, group), "pending": "1", "confirm": QUESTION, **extra}
    return client.post(
        url(group, "stop"), data=data, headers={"Referer": f"http://localhost{url(group)}"}
    )


def test_every_asking_button_on_the_group_page_carries_its_question_for_the_server(
    client, group, as_alice
):
    start_group(group)
    page = soup(client.get(url(group)))
    asking = page.select("[hx-confirm]")
    assert {el.get("id") for el in asking} >= {
        "stop-button",
        "stop-pending-button",
        "delete-button",
        "extend-form",
    }
    for element in asking:
        form = element if element.name == "form" else element.find_parent("form")
        assert form.select_one("input[name=confirm]")["value"] == element["hx-confirm"]


def test_a_plain_post_is_asked_first_and_changes_nothing(client, group, as_alice):
    start_group(group)
    response = stop_pending(client, group)
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("#confirm-question").text == QUESTION
    form = page.select_one("#confirm-button").find_parent("form")
    assert form["action"] == url(group, "stop")
    sent = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    assert sent["pending"] == "1" and sent["confirmed"] == "1" and "confirm" not in sent
    assert page.select_one("#cancel-link")["href"] == url(group)
    assert status_of(group) == "running"


def test_the_confirmed_post_acts_and_goes_back_to_the_group(client, group, as_alice):
    start_group(group)
    response = stop_pending(client, group, confirmed="1")
    assert (response.status_code, response.headers["Location"]) == (302, url(group))
    db.session.expire_all()
    statuses = db.session.scalars(select(Experiment.status).where(Experiment.group_id == group.id))
    assert set(statuses) == {"stopped"}


def test_htmx_posts_are_not_asked_again(client, group, as_alice):
    """With JavaScript, htmx has asked already (hx-confirm): its post acts at once."""
    start_group(group)
    response = client.post(
        url(group, "stop"),
        data={"confirm": "Stop this group?"},
        headers={"HX-Request": "true", "X-CSRFToken": csrf_of(client, group)},
    )
    assert response.status_code == 200
    assert status_of(group) == "stopped"


def test_a_post_without_its_csrf_token_is_refused_not_asked(client, group, as_alice):
    start_group(group)
    response = client.post(url(group, "stop"), data={"confirm": "Stop this group?"})
    assert response.status_code == 400
    assert soup(response).select_one("#confirm-question") is None
    assert status_of(group) == "running"


def test_signed_out_the_post_goes_to_sign_in_not_to_the_question(client, group):
    data = {"csrf_token": form_csrf(client), "confirm": "Stop this group?"}
    response = client.post(url(group, "stop"), data=data)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    "referrer", ["http://elsewhere.example/alice/demo/", "javascript:alert(1)", None]
)
def test_cancel_goes_home_unless_the_form_was_on_this_site(client, group, as_alice, referrer):
    start_group(group)
    headers = {"Referer": referrer} if referrer else {}
    data = {"csrf_token": csrf_of(client, group), "confirm": "Stop this group?"}
    page = soup(client.post(url(group, "stop"), data=data, headers=headers))
    assert page.select_one("#cancel-link")["href"] == "/"


def test_a_long_or_hostile_question_is_shown_cut_and_escaped(client, group, as_alice):
    start_group(group)
    hostile = "<script>alert(1)</script>" + "x" * 5_000
    data = {"csrf_token": csrf_of(client, group), "confirm": hostile}
    response = client.post(url(group, "stop"), data=data)
    assert b"<script>alert" not in response.data
    assert len(soup(response).select_one("#confirm-question").text) == 1_000
    assert status_of(group) == "running"
