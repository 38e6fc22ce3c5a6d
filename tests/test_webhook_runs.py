"""A search run by the real local worker ends, and the worker delivers its end to a real HTTP
server on 127.0.0.1, signed."""

import json

from tests.factories import make_group
from tests.support.runs import group_status, polyaxonfile, wait_for
from tests.support.webhooks import Receiver, add_webhook, signature


def test_the_local_worker_delivers_a_group_end_to_its_webhook(project_with_code, workers, tmp_path):
    record = tmp_path / "records" / "record.jsonl"
    with Receiver() as receiver:
        add_webhook(project_with_code, receiver.url, ["group.succeeded"], secret="e2e")
        group = make_group(project_with_code, content=polyaxonfile(record, n=2, concurrency=2))
        workers()
        wait_for(lambda: group_status(group.id) == "succeeded", "the group to succeed")
        wait_for(lambda: receiver.requests, "the delivery to arrive")
    ((_, headers, body),) = receiver.requests
    assert headers["X-Dashboard-Signature"] == signature("e2e", body)
    payload = json.loads(body)
    assert (payload["event"], payload["group"]["id"]) == ("group.succeeded", group.id)
    assert payload["group"]["last_status"] == "succeeded"
    assert payload["group"]["num_succeeded_experiments"] == 2
