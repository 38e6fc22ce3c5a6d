"""Webhooks on the project settings page: added and deleted with plain forms, errors inline."""

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Webhook
from tests.factories import add_member, make_project, make_user
from tests.support.web import HTMX, form_csrf, sign_in, soup
from tests.support.webhooks import add_webhook

SETTINGS = "/alice/demo/settings"
URL = "https://chat.example.com/hooks/abc123"


def _count():
    return db.session.scalar(select(func.count(Webhook.id)))


def _alice(client):
    project = make_project(make_user("alice"), "demo")
    sign_in(client, "alice")
    return project


def _add(client, **data):
    form = {"csrf_token": form_csrf(client, SETTINGS), "url": URL, "events": ["group.failed"]}
    return client.post(f"{SETTINGS}/webhooks", data={**form, **data})


def test_the_add_form_labels_every_input_and_offers_every_event(client):
    _alice(client)
    form = soup(client.get(SETTINGS)).select_one("form#add-webhook")
    inputs = form.select("input:not([type=hidden])")
    assert all(field.find_parent("label") for field in inputs)
    assert [i["value"] for i in form.select("input[name=events]")] == [
        "group.succeeded",
        "group.failed",
        "group.stopped",
        "group.paused",
        "experiment.failed",
    ]
    assert form.select_one("input[name=secret]")["type"] == "password"


def test_an_admin_adds_a_webhook_with_the_form_and_sees_it_without_its_secret(client):
    project = _alice(client)
    answer = _add(client, events=["group.succeeded", "experiment.failed"], secret="hush")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"{SETTINGS}#webhooks")
    (webhook,) = db.session.scalars(select(Webhook).where(Webhook.project_id == project.id)).all()
    assert (webhook.url, webhook.events, webhook.secret) == (
        URL,
        ["group.succeeded", "experiment.failed"],
        "hush",
    )
    page = client.get(SETTINGS)
    shown = soup(page).select_one(f"#webhook-{webhook.id}")
    assert shown.select_one(".webhook-url").text == URL
    assert shown.select_one(".webhook-events").text == "group.succeeded, experiment.failed"
    assert b"hush" not in page.data


def test_a_bad_url_or_no_event_is_shown_inline_keeping_what_was_typed(client):
    _alice(client)
    answer = _add(client, url="javascript:alert(1)", events=[])
    assert answer.status_code == 400
    page = soup(answer)
    errors = [
        p.text for p in page.select("form#add-webhook ~ .field-error, #webhooks .field-error")
    ]
    assert "Only http and https URLs." in errors
    assert any(e.startswith("At least one of") for e in errors)
    assert page.select_one("form#add-webhook input[name=url]")["value"] == "javascript:alert(1)"
    assert _count() == 0


def test_the_delete_button_asks_first_and_removes_the_webhook(client):
    project = _alice(client)
    webhook = add_webhook(project, URL)
    page = soup(client.get(SETTINGS))
    form = page.select_one(f"#webhook-{webhook.id} form")
    assert form["action"] == f"{SETTINGS}/webhooks/{webhook.id}/delete"
    assert form["hx-post"] == form["action"] and "Delete the webhook" in form["hx-confirm"]
    csrf = form.select_one("input[name=csrf_token]")["value"]
    answer = client.post(form["action"], data={"csrf_token": csrf}, headers=HTMX)
    assert answer.headers["HX-Redirect"].endswith(f"{SETTINGS}#webhooks")
    assert _count() == 0


def test_a_plain_form_delete_redirects_back_to_the_settings(client):
    project = _alice(client)
    webhook = add_webhook(project, URL)
    csrf = form_csrf(client, SETTINGS)
    answer = client.post(f"{SETTINGS}/webhooks/{webhook.id}/delete", data={"csrf_token": csrf})
    assert answer.status_code == 302
    assert _count() == 0


def test_a_member_cannot_add_or_delete_webhooks(client):
    project = make_project(make_user("alice"), "demo")
    add_member(project, make_user("mia"), "member")
    webhook = add_webhook(project, URL)
    sign_in(client, "mia")
    csrf = form_csrf(client, "/alice/demo/")
    added = client.post(f"{SETTINGS}/webhooks", data={"csrf_token": csrf, "url": URL})
    deleted = client.post(f"{SETTINGS}/webhooks/{webhook.id}/delete", data={"csrf_token": csrf})
    assert (added.status_code, deleted.status_code) == (403, 403)
    assert _count() == 1
