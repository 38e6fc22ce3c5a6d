"""Webhook deliveries sent by the runner's real sending code to a real HTTP server on
127.0.0.1: body, signature, retries, no retry on a 4xx, the address checks, and the log."""

import json

import pytest

from dashboard.runner import webhooks as sender
from dashboard.services.project.webhooks import RefusedTarget, resolve_target
from tests.factories import alice_group, make_group
from tests.support.web import sign_in, soup
from tests.support.webhooks import (
    Receiver,
    add_webhook,
    deliver_until_settled,
    deliveries,
    end_group,
    signature,
)

SECRET = "s3cret-for-signing"


@pytest.fixture
def quick_retries(app):
    app.config["WEBHOOK_RETRY_SECONDS"] = (0, 0, 0, 0)


def test_a_group_end_is_delivered_signed_with_the_group_as_get_group_answers_it(
    client, quick_retries
):
    alice, project, group = alice_group()
    with Receiver() as receiver:
        add_webhook(project, receiver.url, ["group.succeeded"], secret=SECRET)
        end_group(group, "succeeded")
        deliver_until_settled()
    ((path, headers, body),) = receiver.requests
    assert path == "/hook?channel=ml"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Dashboard-Signature"] == signature(SECRET, body)
    payload = json.loads(body)
    assert set(payload) == {"event", "text", "project", "group", "url", "sent_at"}
    assert payload["event"] == "group.succeeded"
    assert payload["project"] == "alice.demo"
    assert payload["url"].endswith(f"/alice/demo/groups/{group.id}/")
    assert payload["text"].startswith(f"alice.demo: group {group.id} succeeded (")
    assert "\n" not in payload["text"]
    sign_in(client, "alice")
    answer = client.get(f"/api/v1/alice/demo/groups/{group.id}/").get_json()
    assert payload["group"] == answer
    assert [d.status for d in deliveries()] == ["delivered"]


def test_without_a_secret_no_signature_is_sent(quick_retries):
    alice, project, group = alice_group()
    with Receiver() as receiver:
        add_webhook(project, receiver.url, ["group.stopped"])
        end_group(group, "stopped")
        deliver_until_settled()
    ((_, headers, body),) = receiver.requests
    assert "X-Dashboard-Signature" not in headers
    assert json.loads(body)["event"] == "group.stopped"


def test_a_500_is_retried_and_the_retry_succeeds_sending_the_same_bytes(quick_retries):
    alice, project, group = alice_group()
    with Receiver(answers=[500, 200]) as receiver:
        add_webhook(project, receiver.url, ["group.failed"], secret=SECRET)
        end_group(group, "failed")
        (delivery,) = deliver_until_settled()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)
    first, second = receiver.requests
    assert first[2] == second[2]
    assert second[1]["X-Dashboard-Signature"] == signature(SECRET, second[2])


def test_a_404_is_not_retried(quick_retries):
    alice, project, group = alice_group()
    with Receiver(answers=[404, 200]) as receiver:
        add_webhook(project, receiver.url, ["group.succeeded"])
        end_group(group)
        (delivery,) = deliver_until_settled()
    assert len(receiver.requests) == 1
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 404)


def test_a_receiver_that_keeps_failing_gets_five_attempts_then_the_delivery_fails(quick_retries):
    alice, project, group = alice_group()
    with Receiver(answers=[503]) as receiver:
        add_webhook(project, receiver.url, ["group.succeeded"])
        end_group(group)
        (delivery,) = deliver_until_settled()
    assert len(receiver.requests) == 5
    assert (delivery.status, delivery.attempts) == ("failed", 5)


def test_a_connection_error_is_retried_and_logged(quick_retries):
    alice, project, group = alice_group()
    with Receiver() as receiver:
        url = receiver.url  # nothing listens there once it stops
    add_webhook(project, url, ["group.succeeded"])
    end_group(group)
    (delivery,) = deliver_until_settled()
    assert (delivery.status, delivery.attempts) == ("failed", 5)
    assert delivery.last_status_code is None and "refused" in delivery.last_error.lower()


def test_retries_wait_the_configured_delays(app):
    app.config["WEBHOOK_RETRY_SECONDS"] = (600, 600, 600, 600)
    alice, project, group = alice_group()
    with Receiver(answers=[500]) as receiver:
        add_webhook(project, receiver.url, ["group.succeeded"])
        end_group(group)
        assert sender.deliver_due(10) == 1
        assert sender.deliver_due(10) == 0
    (delivery,) = deliveries()
    assert delivery.status == "pending"
    waited = (delivery.next_attempt_at - delivery.updated_at).total_seconds()
    assert waited == pytest.approx(600, abs=1)


def test_the_production_default_retries_after_10_30_90_and_270_seconds():
    from config import Config, ProductionConfig

    assert Config.WEBHOOK_RETRY_SECONDS == (10, 30, 90, 270)
    assert Config.WEBHOOK_TIMEOUT_SECONDS == 5
    assert ProductionConfig.WEBHOOK_ALLOW_PRIVATE is False


def test_production_refuses_a_loopback_target_at_delivery_unless_its_host_is_allowed(
    app, quick_retries
):
    alice, project, group = alice_group()
    with Receiver() as receiver:
        add_webhook(project, receiver.url, ["group.succeeded", "group.failed"])
        app.config["WEBHOOK_ALLOW_PRIVATE"] = False
        end_group(group, "succeeded")
        (refused,) = deliver_until_settled()
        assert receiver.requests == []
        assert (refused.status, refused.attempts) == ("failed", 1)
        assert "127.0.0.1" in refused.last_error and "WEBHOOK_ALLOWED_HOSTS" in refused.last_error

        app.config["WEBHOOK_ALLOWED_HOSTS"] = frozenset({"127.0.0.1"})
        end_group(make_group(project), "failed")
        deliver_until_settled()
    assert [p["event"] for p in receiver.payloads()] == ["group.failed"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ],
)
def test_production_refuses_private_loopback_and_link_local_addresses(app, url):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    with pytest.raises(RefusedTarget):
        resolve_target(url)


def test_production_allows_a_public_address_and_a_listed_host(app):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    assert resolve_target("https://93.184.215.14/hook") == [(2, "93.184.215.14")]
    app.config["WEBHOOK_ALLOWED_HOSTS"] = frozenset({"127.0.0.1"})
    assert resolve_target("http://127.0.0.1:9/") == [(2, "127.0.0.1")]


def test_the_deliveries_show_on_the_settings_page_and_in_the_api(client, quick_retries):
    alice, project, group = alice_group()
    with Receiver(answers=[500, 200]) as receiver:
        webhook = add_webhook(project, receiver.url, ["group.succeeded"])
        end_group(group)
        (delivery,) = deliver_until_settled()
    sign_in(client, "alice")
    page = soup(client.get("/alice/demo/settings"))
    row = page.select_one(f"#webhook-{webhook.id} #delivery-{delivery.id}")
    assert row.select_one(".delivery-status").text == "delivered"
    assert row.select_one(".delivery-attempts").text == "2"
    assert row.select_one(".delivery-answer").text == "200"

    answer = client.get(f"/api/v1/alice/demo/webhooks/{webhook.id}/deliveries/")
    assert answer.status_code == 200
    attempts = answer.get_json()
    assert [(a["attempt"], a["status_code"], a["error"]) for a in attempts] == [
        (2, 200, None),
        (1, 500, None),
    ]
    assert set(attempts[0]) == {
        "id",
        "delivery",
        "event",
        "group",
        "attempt",
        "status_code",
        "error",
        "created_at",
        "delivery_status",
    }
    assert attempts[0]["delivery_status"] == "delivered"
    assert attempts[0]["group"] == group.id
