"""The notes on the group and experiment pages: rendered in the page itself, the editor for
members only, saved by a plain form post (redirect back) or by htmx (the section swapped), and a
stale save that shows the newer notes and keeps the writer's own text."""

import pytest

from dashboard.extensions import db
from dashboard.models import Project
from dashboard.services.experiment.credentials import experiment_access
from dashboard.services.group import notes
from dashboard.services.project.access import project_access
from tests.factories import first_experiment_id
from tests.support.web import HTMX, soup, url

STALE = "Someone saved these notes since you opened them; their text is shown"


@pytest.fixture(params=["group", "experiment"])
def page(request, group):
    """The group page, then its first experiment's page: (page URL, save the notes directly)."""
    access = project_access("alice", "demo", actor=db.session.get(Project, group.project_id).owner)
    if request.param == "group":

        def save(markdown, version):
            return notes.save_group_notes(access, group.id, markdown=markdown, version=version)

        return url(group), save
    experiment_id = first_experiment_id(group)

    def save_experiment(markdown, version):
        held = experiment_access("alice", "demo", experiment_id, actor=access.actor)
        return notes.save_experiment_notes(held, markdown=markdown, version=version)

    return url(group, f"experiments/{experiment_id}/"), save_experiment


def _post(client, page_url, markdown, version, headers=None):
    csrf = soup(client.get(page_url)).select_one("#notes-form input[name=csrf_token]")["value"]
    data = {"csrf_token": csrf, "markdown": markdown, "version": str(version)}
    return client.post(page_url + "notes", data=data, headers=headers or {})


def test_saved_notes_are_rendered_in_the_page_itself(client, page, sign_in_as):
    page_url, save = page
    save("## Findings\n\n- lr **0.01** wins", 0)
    sign_in_as("viewer")

    section = soup(client.get(page_url)).select_one("section#notes")

    assert section.select_one(".notes-html h2").text == "Findings"
    assert section.select_one(".notes-html li strong").text == "0.01"
    assert "Version 1" in section.select_one(".notes-meta").text


@pytest.mark.parametrize(("role", "editor"), [("viewer", False), ("member", True)])
def test_empty_notes_show_viewers_no_notes_yet_and_members_the_editor(
    client, page, sign_in_as, role, editor
):
    sign_in_as(role)

    section = soup(client.get(page[0])).select_one("section#notes")

    empty = section.select_one(".notes-empty")
    assert (empty is None) == editor and (editor or empty.text == "No notes yet")
    form = section.select_one("form#notes-form")
    assert (form is not None) == editor and (not editor or form.textarea.text == "")


def test_members_get_the_editor_with_the_version_they_read(client, page, sign_in_as):
    page_url, save = page
    save("draft", 0)
    sign_in_as("member")

    form = soup(client.get(page_url)).select_one("#notes form#notes-form")

    assert form["method"] == "post" and form["action"] == page_url + "notes"
    assert form["hx-post"] == page_url + "notes" and form["hx-target"] == "#notes"
    assert form.select_one("input[name=csrf_token]")["value"]
    assert form.select_one("input[name=version]")["value"] == "1"
    assert form.select_one("textarea[name=markdown]").text == "draft"
    assert form.select_one("label[for=notes-markdown]")


def test_a_plain_form_post_saves_and_redirects_back_to_the_page(client, page, sign_in_as):
    page_url = page[0]
    sign_in_as("member")

    response = _post(client, page_url, "first *notes*", 0)

    assert response.status_code == 302
    assert response.headers["Location"] == page_url + "#notes"
    shown = soup(client.get(page_url))
    assert shown.select_one("#notes .notes-html em").text == "notes"
    assert shown.select_one("#notes input[name=version]")["value"] == "1"


def test_an_htmx_post_answers_the_saved_section(client, page, sign_in_as):
    page_url = page[0]
    sign_in_as("member")

    response = _post(client, page_url, "line 1\r\nline 2", 0, HTMX)

    assert response.status_code == 200
    answer = soup(response)
    assert answer.select_one("section#notes .notes-html p").text == "line 1\nline 2"
    assert answer.select_one("#notes textarea").text == "line 1\nline 2"
    assert answer.select_one("#flash").text.strip() == "Notes saved."


@pytest.mark.parametrize("headers", [None, HTMX], ids=["plain", "htmx"])
def test_a_stale_save_shows_the_newer_notes_and_keeps_the_writers_text(
    client, page, sign_in_as, headers
):
    page_url, save = page
    sign_in_as("member")
    csrf = soup(client.get(page_url)).select_one("#notes-form input[name=csrf_token]")["value"]
    save("# Theirs", 0)  # saved by someone else after the form was opened at version 0

    data = {"csrf_token": csrf, "markdown": "my edit", "version": "0"}
    response = client.post(page_url + "notes", data=data, headers=headers or {})

    assert response.status_code == 409
    section = soup(response).select_one("section#notes")
    assert STALE in section.select_one("#notes-error[role=alert]").text
    assert section.select_one(".notes-html h1").text == "Theirs"
    assert section.select_one("textarea[name=markdown]").text == "# Theirs"
    assert section.select_one("textarea[name=markdown]")["aria-describedby"] == "notes-error"
    assert section.select_one("input[name=version]")["value"] == "1"
    mine = section.select_one("textarea#notes-draft")
    assert mine.text == "my edit" and mine.has_attr("readonly") and not mine.get("name")
    assert section.select_one("label[for=notes-draft]").text == "Your text (not saved)"
    if headers is None:
        assert soup(response).select_one("#group-header, .experiment-header")  # the whole page
    else:
        assert soup(response).select_one("#flash[hx-swap-oob]").text == ""  # no "Notes saved."


def test_too_large_notes_keep_the_writers_text_in_the_editor(client, page, sign_in_as):
    sign_in_as("member")
    huge = "x" * (notes.MAX_BYTES + 1)

    response = _post(client, page[0], huge, 0, HTMX)

    assert response.status_code == 413
    section = soup(response).select_one("section#notes")
    assert "at most 102,400 bytes" in section.select_one("#notes-error").text
    assert section.select_one("textarea[name=markdown]").text == huge
    assert section.select_one("#notes-draft") is None


def test_viewers_may_not_post_notes(client, page, sign_in_as):
    sign_in_as("viewer")
    csrf = soup(client.get(page[0])).select_one("input[name=csrf_token]")["value"]

    response = client.post(
        page[0] + "notes", data={"csrf_token": csrf, "markdown": "x", "version": "0"}
    )

    assert response.status_code == 403


def test_script_in_notes_is_shown_as_text_on_the_page(client, page, sign_in_as):
    page_url, save = page
    save("<script>alert(1)</script> [x](javascript:alert(1))", 0)
    sign_in_as("viewer")

    rendered = soup(client.get(page_url)).select_one("#notes .notes-html")

    assert rendered.select("script, a") == []
    assert "<script>alert(1)</script>" in rendered.text
