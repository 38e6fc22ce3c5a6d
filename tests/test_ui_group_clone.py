"""The group page's Clone and Search around best: the new-group form pre-filled (with what was
narrowed), creating the clone through it, errors inline."""

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.hptuning import parse_group_spec
from dashboard.models import ExperimentGroup
from tests.factories import grid_yml, make_project, make_user
from tests.support.around_best import SEARCH, searched_group
from tests.support.web import form_csrf, sign_in, signed_in_as, soup, url


def _alice_group(client, objective=("loss", "minimize"), **fields):
    """alice's SEARCH group in her public project `demo`, finished; alice signed in."""
    project = make_project(make_user("alice"), "demo")
    group = searched_group(project, objective, **fields)
    sign_in(client, "alice")
    return project, group


def _submit(client, page, **changes):
    """Post the page's new-group form as it is filled, with `changes`."""
    form = page.select_one("#new-group form")
    data = {field["name"]: field.get("value", "") for field in form.select("input[name]")}
    data["content"] = form.select_one("textarea[name=content]").get_text()
    data.update(changes)
    return client.post(form["action"], data=data)


def _groups():
    return db.session.scalars(select(ExperimentGroup).order_by(ExperimentGroup.id)).all()


def test_the_group_page_links_clone_and_search_around_best(client):
    _, group = _alice_group(client)

    page = soup(client.get(url(group)))

    assert page.select_one("#clone-link")["href"] == f"/alice/demo/groups/{group.id}/clone"
    assert page.select_one("#around-best-link")["href"] == (
        f"/alice/demo/groups/{group.id}/around-best"
    )


def test_search_around_best_is_offered_only_once_there_is_a_best(client):
    _, group = _alice_group(client, objective=None)

    page = soup(client.get(url(group)))

    assert page.select_one("#clone-link") is not None
    assert page.select_one("#around-best-link") is None


def test_a_viewer_is_offered_neither_and_cannot_open_them(client):
    project, group = _alice_group(client)
    client.get("/logout")
    signed_in_as(client, "vera", project, "viewer")

    page = soup(client.get(url(group)))

    assert page.select_one("#clone-link") is None
    assert page.select_one("#around-best-link") is None
    assert client.get(url(group, "clone")).status_code == 403
    assert client.get(url(group, "around-best")).status_code == 403


def test_the_clone_page_holds_the_groups_polyaxonfile_and_where_it_came_from(client):
    _, group = _alice_group(client)

    page = soup(client.get(url(group, "clone")))

    assert page.select_one("h1").get_text() == f"Clone group {group.id}"
    assert page.select_one("#new-group textarea[name=content]").get_text() == SEARCH
    assert page.select_one("#new-group input[name=cloned_from]")["value"] == str(group.id)
    label = page.select_one("label[for=new-group-name]")
    assert label is not None and page.select_one("#new-group-name")["name"] == "name"


def test_creating_the_clone_through_the_form_records_it_and_opens_it(client):
    _, group = _alice_group(client, name="first")

    response = _submit(client, soup(client.get(url(group, "clone"))), name="second")

    clone = _groups()[-1]
    assert response.status_code == 302
    assert response.headers["Location"] == f"/alice/demo/groups/{clone.id}/"
    assert (clone.cloned_from_id, clone.name, clone.content) == (group.id, "second", SEARCH)


def test_a_clone_with_a_taken_name_is_refused_inline_keeping_the_clone_fields(client):
    _, group = _alice_group(client, name="first")

    response = _submit(client, soup(client.get(url(group, "clone"))), name="first")

    assert response.status_code == 400
    page = soup(response)
    assert "A group named 'first' already exists" in page.select_one("#new-group-errors").text
    assert page.select_one("#new-group input[name=cloned_from]")["value"] == str(group.id)
    assert page.select_one("#new-group-name")["value"] == "first"
    assert len(_groups()) == 1


def test_a_bad_cloned_from_is_refused_inline(client):
    _alice_group(client)
    csrf = form_csrf(client, "/alice/demo/")

    response = client.post(
        "/alice/demo/groups",
        data={"content": grid_yml(1), "cloned_from": "abc", "csrf_token": csrf},
    )

    assert response.status_code == 400
    assert "The group cloned is not a group id." in soup(response).select_one(
        "#new-group-errors"
    ).get_text(" ")
    assert len(_groups()) == 1


def test_the_project_pages_own_form_still_creates_plain_groups(client):
    _alice_group(client)
    csrf = form_csrf(client, "/alice/demo/")

    response = client.post("/alice/demo/groups", data={"content": grid_yml(1), "csrf_token": csrf})

    assert response.status_code == 302
    assert _groups()[-1].cloned_from_id is None


def test_search_around_best_prefills_the_narrowed_polyaxonfile_and_says_what_was_narrowed(
    client,
):
    _, group = _alice_group(client)

    page = soup(client.get(url(group, "around-best")))

    notes = [li.get_text() for li in page.select("#narrowed-notes li")]
    assert notes == [
        "lr: linspace 0:1:5 → 0.25:0.75:5 around 0.5",
        "units: values [10, 20, 30, 40] → [30] around 30",
        "act: values kept (categorical)",
    ]
    content = page.select_one("#new-group textarea[name=content]").get_text()
    assert parse_group_spec(content).matrix == {
        "lr": {"linspace": {"start": 0.25, "stop": 0.75, "num": 5}},
        "units": {"values": [30]},
        "act": {"values": ["relu", "tanh"]},
    }
    assert page.select_one("label[for=spread]") is not None
    assert page.select_one("#spread")["value"] == "0.25"


def test_a_spread_given_narrows_by_it(client):
    _, group = _alice_group(client)

    page = soup(client.get(url(group, "around-best?spread=0.5")))

    assert page.select_one("#spread")["value"] == "0.5"
    assert page.select("#narrowed-notes li")[1].get_text() == (
        "units: values [10, 20, 30, 40] → [20, 30, 40] around 30"
    )


def test_creating_the_narrowed_group_records_where_it_came_from(client):
    _, group = _alice_group(client)

    response = _submit(client, soup(client.get(url(group, "around-best"))))

    clone = _groups()[-1]
    assert response.status_code == 302
    assert clone.cloned_from_id == group.id
    assert clone.hptuning["matrix"]["units"] == {"values": [30]}


def test_a_bad_spread_is_an_inline_message_not_a_server_error(client):
    _, group = _alice_group(client)

    for spread in ("0", "-1", "2", "abc", "9" * 5000):
        response = client.get(url(group, f"around-best?spread={spread}"))

        assert response.status_code == 400
        page = soup(response)
        assert (
            page.select_one("#spread-error")
            .get_text()
            .startswith("The spread must be a number greater than 0 and at most 1")
        )
        assert page.select_one("#spread")["aria-invalid"] == "true"
        assert page.select_one("#new-group") is None


def test_search_around_best_without_an_objective_says_so_inline(client):
    _, group = _alice_group(client, objective=None)

    response = client.get(url(group, "around-best"))

    assert response.status_code == 400
    message = soup(response).select_one(".around-best-error").get_text(" ")
    assert "The group has no objective" in message
