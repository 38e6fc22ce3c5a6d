"""A project's webhooks through the API, and the deliveries queued as groups end or pause and
experiments fail (EXTENSIONS.md section 2): what is queued, once, throttled, and for whom."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.models import Experiment, WebhookAttempt, WebhookDelivery
from dashboard.models.types import utcnow
from dashboard.services.group import statuses
from dashboard.services.run import runs
from tests.factories import (
    add_member,
    auth,
    grid_yml,
    make_group,
    make_token,
    make_user,
    owner_with_group,
)
from tests.support.webhooks import add_webhook, deliveries, end_group

HOOKS = "/api/v1/root/quick-start/webhooks/"
URL = "https://hooks.example.com/services/T0/B0/xyz"


@pytest.fixture
def root(app):
    return owner_with_group(grid_yml(4))


def _create(client, headers, **body):
    return client.post(
        HOOKS, json={"url": URL, "events": ["group.succeeded"], **body}, headers=headers
    )


def test_an_admin_adds_lists_and_deletes_a_webhook_whose_secret_is_never_shown(client, root):
    created = _create(
        client, root.headers, events=["experiment.failed", "group.failed"], secret="k"
    )
    assert created.status_code == 201
    webhook = created.get_json()
    assert set(webhook) == {"id", "url", "events", "created_at"}
    assert (webhook["url"], webhook["events"]) == (URL, ["group.failed", "experiment.failed"])

    listed = client.get(HOOKS, headers=root.headers)
    assert listed.status_code == 200
    assert listed.get_json() == [webhook]

    gone = client.delete(f"{HOOKS}{webhook['id']}/", headers=root.headers)
    assert (gone.status_code, gone.data) == (204, b"")
    assert client.get(HOOKS, headers=root.headers).get_json() == []
    assert client.delete(f"{HOOKS}{webhook['id']}/", headers=root.headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "http:///no-host"}, "url"),
        ({"url": "http://example.com:99999/"}, "url"),
        ({"url": "http://exa mple.com/"}, "url"),
        ({"url": "https://example.com/" + "a" * 2000}, "url"),
        ({"url": 5}, "url"),
        ({"events": []}, "events"),
        ({"events": ["group.exploded"]}, "events.0"),
        ({"events": "group.failed"}, "events"),
        ({"secret": "x" * 257}, "secret"),
        ({"secret": 12}, "secret"),
    ],
)
def test_a_bad_webhook_is_refused_naming_its_field(client, root, body, field):
    answer = _create(client, root.headers, **body)
    assert answer.status_code == 400
    assert field in answer.get_json()


def test_production_refuses_a_webhook_to_a_loopback_address_when_it_is_added(app, client, root):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    answer = _create(client, root.headers, url="http://127.0.0.1:8080/hook")
    assert answer.status_code == 400
    assert "loopback, private or link-local" in answer.get_json()["url"][0]
    app.config["WEBHOOK_ALLOWED_HOSTS"] = frozenset({"127.0.0.1"})
    assert _create(client, root.headers, url="http://127.0.0.1:8080/hook").status_code == 201


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_only_admins_manage_webhooks(client, root, role):
    other = make_user("someone")
    add_member(root.project, other, role)
    headers = auth(make_token(other))
    webhook = add_webhook(root.project, URL)
    assert client.get(HOOKS, headers=headers).status_code == 403
    assert _create(client, headers).status_code == 403
    assert client.delete(f"{HOOKS}{webhook.id}/", headers=headers).status_code == 403
    assert client.get(f"{HOOKS}{webhook.id}/deliveries/", headers=headers).status_code == 403


def test_a_webhook_of_another_project_is_not_found(client, root):
    other = owner_with_group(grid_yml(1), username="zed", project_name="other")
    webhook = add_webhook(other.project, URL)
    assert client.delete(f"{HOOKS}{webhook.id}/", headers=root.headers).status_code == 404
    assert client.get(f"{HOOKS}{webhook.id}/deliveries/", headers=root.headers).status_code == 404


# ---- what is queued ----------------------------------------------------------------------


def test_a_group_end_queues_one_delivery_for_each_webhook_that_wants_it(root):
    wants = add_webhook(root.project, URL, ["group.succeeded"])
    add_webhook(root.project, URL, ["group.failed", "experiment.failed"])
    end_group(root.group, "succeeded")
    (delivery,) = deliveries()
    assert (delivery.webhook_id, delivery.event, delivery.group_id) == (
        wants.id,
        "group.succeeded",
        root.group.id,
    )
    assert (delivery.status, delivery.attempts, delivery.body) == ("pending", 0, None)


def test_pausing_and_stopping_a_group_queue_their_events(root):
    add_webhook(root.project, URL, ["group.paused", "group.stopped"])
    statuses.set_group_status(root.group, "running")
    statuses.set_group_status(root.group, "paused")
    statuses.request_stop(root.group)
    db.session.commit()
    assert [d.event for d in deliveries()] == ["group.paused", "group.stopped"]


def test_a_status_change_costs_one_query_when_the_project_has_no_webhook(root, count_queries):
    statuses.set_group_status(root.group, "running")
    db.session.flush()
    with count_queries() as statements:
        statuses.set_group_status(root.group, "succeeded")
    assert len([s for s in statements if "webhook" in s]) == 1
    assert deliveries() == []


def _experiment_ids(group):
    return db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()


def test_a_burst_of_failures_is_one_delivery_that_counts_them(root, count_queries):
    add_webhook(root.project, URL, ["experiment.failed"])
    statuses.set_group_status(root.group, "running")
    ids = _experiment_ids(root.group)
    for experiment_id in ids[:2]:
        runs.mark(experiment_id, "failed", "exit 1")
    with count_queries() as statements:
        moved = statuses.set_experiment_statuses(root.group.id, ("created",), "failed", "bulk")
    assert moved == 2
    assert len([s for s in statements if "webhook" in s]) <= 3
    db.session.commit()
    (delivery,) = deliveries()
    assert (delivery.event, delivery.failures) == ("experiment.failed", 4)


def test_a_failure_after_the_first_delivery_went_waits_a_minute_from_it(root):
    add_webhook(root.project, URL, ["experiment.failed"])
    statuses.set_group_status(root.group, "running")
    first, second, third, _ = _experiment_ids(root.group)
    runs.mark(first, "failed")
    (sent,) = deliveries()
    db.session.execute(update(WebhookDelivery).values(attempts=1, status="delivered"))
    db.session.commit()
    for experiment_id in (second, third):
        runs.mark(experiment_id, "failed")
    sent, waiting = deliveries()
    assert waiting.failures == 2
    assert waiting.next_attempt_at == sent.scheduled_at + timedelta(minutes=1)


def test_failures_of_another_group_are_not_joined(root):
    add_webhook(root.project, URL, ["experiment.failed"])
    other = make_group(root.project, content=grid_yml(1))
    for group in (root.group, other):
        statuses.set_group_status(group, "running")
        runs.mark(_experiment_ids(group)[0], "failed")
    assert sorted((d.group_id, d.failures) for d in deliveries()) == [
        (root.group.id, 1),
        (other.id, 1),
    ]


def test_the_deliveries_answer_at_most_the_last_50_attempts(client, root):
    webhook = add_webhook(root.project, URL, ["group.succeeded"])
    end_group(root.group)
    (delivery,) = deliveries()
    db.session.add_all(
        WebhookAttempt(
            delivery_id=delivery.id,
            webhook_id=webhook.id,
            number=n,
            status_code=500,
            created_at=utcnow(),
        )
        for n in range(1, 61)
    )
    db.session.commit()
    answer = client.get(f"{HOOKS}{webhook.id}/deliveries/", headers=root.headers).get_json()
    assert [a["attempt"] for a in answer] == list(range(60, 10, -1))
