"""Group actions from the page: htmx answers with fragments, plain posts redirect back."""

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Bookmark, Experiment, ExperimentGroup
from tests.factories import alice_group, move_experiments, start_group
from tests.support.web import csrf_of, form_csrf, sign_in, soup, url


def htmx(client, group):
    """Headers of an htmx request from the group page (the CSRF token rides in a header)."""
    return {"HX-Request": "true", "X-CSRFToken": csrf_of(client, group)}


def roots(response):
    """(id, hx-swap-oob) of each top-level element of a fragment answer."""
    return [(el["id"], el.get("hx-swap-oob")) for el in soup(response).find_all(recursive=False)]


def fresh(group):
    db.session.expire_all()
    return db.session.get(ExperimentGroup, group.id)


def experiment_statuses(group):
    return sorted(
        db.session.scalars(select(Experiment.status).where(Experiment.group_id == group.id)).all()
    )


def bookmarked(user, group):
    return (
        db.session.execute(
            select(Bookmark.id).where(Bookmark.user_id == user.id, Bookmark.group_id == group.id)
        ).first()
        is not None
    )


# ---- htmx --------------------------------------------------------------------------------


def test_stop_swaps_the_action_bar_and_refreshes_header_counts_and_history(client, group, as_alice):
    response = client.post(url(group, "stop"), headers=htmx(client, group))
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "group-experiments-changed"
    assert roots(response) == [
        ("group-actions", None),
        ("group-header", "true"),
        ("group-counts", "true"),
        ("group-history", "true"),
    ]
    page = soup(response)
    assert page.select_one("#status-badge").text == "stopped"
    assert page.select_one("#stop-button") is None
    assert page.select_one("#group-counts [data-status=stopped] dd").text == "10"
    assert experiment_statuses(group) == ["stopped"] * 10


def test_stop_pending_leaves_running_experiments_to_finish(client):
    _, _, group = alice_group()
    start_group(group)
    move_experiments(group, 3, "running")
    sign_in(client, "alice")
    response = client.post(url(group, "stop"), data={"pending": "1"}, headers=htmx(client, group))
    assert soup(response).select_one("#status-badge").text == "stopping"
    assert experiment_statuses(group) == ["running"] * 3 + ["stopped"] * 7
    assert soup(response).select_one("#stop-button")  # still stoppable while stopping


def test_bookmark_and_unbookmark_swap_only_the_toggle(client):
    alice, _, group = alice_group()
    sign_in(client, "alice")
    on = client.post(url(group, "bookmark"), headers=htmx(client, group))
    assert roots(on) == [("bookmark-form", None)]
    toggle = soup(on).select_one("#bookmark-toggle")
    assert "★ Bookmarked" in toggle.text and toggle["hx-post"] == url(group, "unbookmark")
    assert bookmarked(alice, group)
    off = client.post(url(group, "unbookmark"), headers=htmx(client, group))
    toggle = soup(off).select_one("#bookmark-toggle")
    assert "☆ Bookmark" in toggle.text and toggle["hx-post"] == url(group, "bookmark")
    assert not bookmarked(alice, group)


def test_edit_saves_description_and_comma_separated_tags(client):
    _, _, group = alice_group()
    sign_in(client, "alice")
    response = client.post(
        url(group, "edit"),
        headers=htmx(client, group),
        data={"description": "Lower learning rates", "tags": " tuning, lr ,, tuning,baseline "},
    )
    assert roots(response) == [("group-description", None)]
    section = soup(response).select_one("#group-description")
    assert section.select_one(".description-text").text == "Lower learning rates"
    assert [li.text for li in section.select(".tag")] == ["tuning", "lr", "baseline"]
    assert section.select_one("input[name=tags]")["value"] == "tuning, lr, baseline"
    group = fresh(group)
    assert (group.description, group.tags) == ("Lower learning rates", ["tuning", "lr", "baseline"])


def test_edit_with_a_too_long_tag_is_refused_in_the_flash_area(client, group, as_alice):
    response = client.post(
        url(group, "edit"), headers=htmx(client, group), data={"description": "x", "tags": "a" * 65}
    )
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#flash"
    assert "at most 64 characters" in soup(response).select_one("#flash").text
    assert fresh(group).description is None


def test_archive_then_restore_swap_the_action_bar_and_header(client, group, as_alice):
    archived = client.post(url(group, "archive"), headers=htmx(client, group))
    assert roots(archived) == [("group-actions", None), ("group-header", "true")]
    assert soup(archived).select_one("#restore-button")["hx-post"] == url(group, "restore")
    assert soup(archived).select_one("#archived-badge").text == "archived"
    assert fresh(group).is_archived
    restored = client.post(url(group, "restore"), headers=htmx(client, group))
    assert soup(restored).select_one("#archive-button")["hx-post"] == url(group, "archive")
    assert soup(restored).select_one("#archived-badge") is None
    assert not fresh(group).is_archived


def test_delete_sends_hx_redirect_to_the_project_page(client, group, as_alice):
    response = client.post(url(group, "delete"), headers=htmx(client, group))
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/alice/demo/"
    assert fresh(group) is None


# ---- without JavaScript ------------------------------------------------------------------


@pytest.mark.parametrize(
    "action, data",
    [
        ("stop", {}),
        ("stop", {"pending": "1"}),
        ("bookmark", {}),
        ("archive", {}),
        ("edit", {"description": "d", "tags": "a"}),
    ],
)
def test_plain_form_post_redirects_back_to_the_group_page(client, action, data):
    _, _, group = alice_group()
    sign_in(client, "alice")
    response = client.post(url(group, action), data={"csrf_token": csrf_of(client, group), **data})
    assert response.status_code == 302
    assert response.headers["Location"] == url(group)
    assert soup(client.get(url(group))).select_one("#flash .flash-success")


def test_plain_unbookmark_and_restore_redirect_back(client):
    alice, _, group = alice_group()
    sign_in(client, "alice")
    token = csrf_of(client, group)
    for action in ("bookmark", "unbookmark", "archive", "restore"):
        response = client.post(url(group, action), data={"csrf_token": token})
        assert (response.status_code, response.headers["Location"]) == (302, url(group))
    assert not bookmarked(alice, group) and not fresh(group).is_archived


def test_plain_delete_redirects_to_the_project_page(client, group, as_alice):
    response = client.post(url(group, "delete"), data={"csrf_token": csrf_of(client, group)})
    assert (response.status_code, response.headers["Location"]) == (302, "/alice/demo/")
    assert fresh(group) is None


# ---- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action", ["stop", "bookmark", "unbookmark", "edit", "archive", "restore", "delete"]
)
def test_actions_without_the_csrf_token_are_refused(client, action):
    _, _, group = alice_group()
    sign_in(client, "alice")
    response = client.post(url(group, action), data={"description": "x"})
    assert response.status_code == 400
    assert "CSRF" in soup(response).text
    group = fresh(group)
    assert (group.status, group.is_archived, group.description) == ("created", False, None)


def test_viewer_cannot_stop(client, group, sign_in_as):
    sign_in_as("viewer")
    response = client.post(url(group, "stop"), headers=htmx(client, group))
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#flash"
    assert fresh(group).status == "created"


def test_member_cannot_delete(client, group, sign_in_as):
    sign_in_as("member")
    response = client.post(url(group, "delete"), data={"csrf_token": csrf_of(client, group)})
    assert response.status_code == 403
    assert fresh(group) is not None


def test_action_after_signing_out_elsewhere_gets_401_with_hx_redirect(client, group, as_alice):
    headers = htmx(client, group)
    client.post("/logout", data={"csrf_token": headers["X-CSRFToken"]})
    response = client.post(url(group, "stop"), headers=headers)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")
    assert fresh(group).status == "created"


def test_concurrency_is_changed_inline_and_applies_to_the_group(client):
    from bs4 import BeautifulSoup

    from dashboard.extensions import db
    from dashboard.models import ExperimentGroup
    from tests.factories import make_group, make_project, make_user

    alice = make_user("alice")
    group = make_group(make_project(alice, "demo"))
    sign_in(client, "alice")
    page_url = f"/alice/demo/groups/{group.id}/"
    form = BeautifulSoup(client.get(page_url).data, "html.parser").select_one("#concurrency-form")
    assert form["hx-post"] == form["action"] == f"/alice/demo/groups/{group.id}/concurrency"
    field = form.select_one("input[name=concurrency]")
    assert (field["min"], field["max"]) == ("1", "10000")  # the polyaxonfile's and the API's
    token = form_csrf(client, page_url)
    bad = client.post(
        form["action"],
        data={"csrf_token": token, "concurrency": "0"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 400 and "whole number" in bad.get_data(as_text=True)
    response = client.post(
        form["action"],
        data={"csrf_token": token, "concurrency": "2"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    fragment = BeautifulSoup(response.data, "html.parser")
    assert fragment.select_one("#concurrency-form input[name=concurrency]")["value"] == "2"
    db.session.expire_all()
    stored = db.session.get(ExperimentGroup, group.id)
    assert (stored.concurrency, "concurrency" in stored.hptuning) == (2, False)
