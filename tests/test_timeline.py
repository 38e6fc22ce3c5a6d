"""A group's timeline: group and experiment status rows and user actions, merged and paged."""

from datetime import timedelta

from bs4 import BeautifulSoup
from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentStatus, GroupEvent, GroupStatus
from dashboard.models.types import utcnow
from dashboard.services.group import events, groups, statuses, tensorboards
from dashboard.services.project.access import project_access
from tests.factories import (
    add_member,
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
)
from tests.support.web import sign_in

KEYS = {"time", "kind", "source", "user", "message", "experiment", "status"}


def _world(n=2):
    alice = make_user("alice")
    project = make_project(alice, "demo")
    group = make_group(project, content=grid_yml(n))
    return alice, project, group


def _access(user):
    return project_access("alice", "demo", actor=user)


def _timeline(client, group, user, query=""):
    return client.get(
        f"/api/v1/alice/demo/groups/{group.id}/timeline/{query}", headers=auth(make_token(user))
    )


def _kinds(group, user=None):
    rows = db.session.scalars(
        select(GroupEvent).where(GroupEvent.group_id == group.id).order_by(GroupEvent.id)
    ).all()
    return [(row.kind, row.user_id == (user.id if user else None)) for row in rows]


def test_timeline_merges_group_and_experiment_statuses_and_actions_oldest_first(app, client):
    alice, _, group = _world(n=1)
    groups.stop_group(_access(alice), group.id)
    experiment = db.session.scalars(select(Experiment).where(Experiment.group_id == group.id)).one()

    response = _timeline(client, group, alice)

    assert response.status_code == 200
    body = response.json
    assert set(body) == {"count", "next", "previous", "results"}
    assert all(set(item) == KEYS for item in body["results"])
    summary = [
        (i["source"], i["kind"], i["status"], i["experiment"], i["user"], i["message"])
        for i in body["results"]
    ]
    assert summary == [
        ("group_status", "status", "created", None, None, None),
        ("experiment_status", "status", "created", experiment.id, None, None),
        ("experiment_status", "status", "stopped", experiment.id, None, "Stopped with its group."),
        ("group_status", "status", "stopped", None, None, "Stopped by alice."),
        ("action", "stop", None, None, "alice", "Stopped the group."),
    ]
    times = [item["time"] for item in body["results"]]
    assert times == sorted(times)


def test_timeline_is_paginated_with_limit_and_offset(app, client):
    alice, _, group = _world(n=1)
    for description in ("a", "b", "c", "d"):
        groups.update_group(_access(alice), group.id, fields={"description": description})

    first = _timeline(client, group, alice, "?limit=2").json
    second = _timeline(client, group, alice, "?limit=2&offset=2").json

    assert first["count"] == second["count"] == 6  # group and experiment created, four edits
    assert [i["source"] for i in first["results"]] == ["group_status", "experiment_status"]
    assert first["next"].endswith("limit=2&offset=2") and first["previous"] is None
    assert [i["message"] for i in second["results"]] == ["Edited description."] * 2
    assert second["previous"] is not None


def test_private_events_are_shown_only_to_their_user(app, client):
    alice, project, group = _world()
    bob = make_user("bob")
    add_member(project, bob, "member")
    client.post(f"/api/v1/alice/demo/groups/{group.id}/bookmark/", headers=auth(make_token(bob)))

    mine = [i["kind"] for i in _timeline(client, group, bob).json["results"]]
    theirs = [i["kind"] for i in _timeline(client, group, alice).json["results"]]

    assert "bookmark" in mine
    assert "bookmark" not in theirs


def test_services_record_who_did_what(app):
    alice, _, group = _world()
    access = _access(alice)
    groups.update_group(access, group.id, fields={"description": "tuned", "concurrency": 3})
    groups.set_archived(access, group.id, True)
    groups.set_archived(access, group.id, False)
    statuses.post_group_status(access, group.id, status="running", message="by hand")
    groups.stop_group(access, group.id, pending_only=True)
    tensorboards.stop_tensorboard(access, group.id)

    rows = db.session.scalars(
        select(GroupEvent).where(GroupEvent.group_id == group.id).order_by(GroupEvent.id)
    ).all()

    assert [(r.kind, r.data) for r in rows] == [
        ("edit", {"fields": ["description"]}),
        ("concurrency", {"from": 2, "to": 3}),
        ("archive", None),
        ("restore", None),
        ("status", None),
        ("stop_pending", None),
        ("tensorboard_stop", None),
    ]
    assert {r.user_id for r in rows} == {alice.id}
    assert rows[1].message == "Changed the concurrency from 2 to 3."


def test_an_edit_changing_nothing_records_nothing(app):
    alice, _, group = _world()
    groups.update_group(_access(alice), group.id, fields={"description": group.description})

    assert _kinds(group) == []


def test_unbookmark_is_recorded_privately(app, client):
    alice, _, group = _world()
    headers = auth(make_token(alice))
    client.post(f"/api/v1/alice/demo/groups/{group.id}/bookmark/", headers=headers)
    client.delete(f"/api/v1/alice/demo/groups/{group.id}/unbookmark/", headers=headers)

    rows = db.session.scalars(select(GroupEvent).order_by(GroupEvent.id)).all()

    assert [(r.kind, r.private, r.user_id) for r in rows] == [
        ("bookmark", True, alice.id),
        ("unbookmark", True, alice.id),
    ]


def test_record_does_not_commit(app):
    alice, _, group = _world()
    events.record(group.id, user=alice, kind="stop")
    db.session.rollback()

    assert _kinds(group) == []


def test_timeline_of_a_large_group_costs_a_constant_number_of_queries(app, client, count_queries):
    alice, _, group = _world(n=3)
    token = make_token(alice)
    groups.stop_group(_access(alice), group.id)
    client.get(f"/api/v1/alice/demo/groups/{group.id}/timeline/", headers=auth(token))  # warm-up
    with count_queries() as small:
        client.get(f"/api/v1/alice/demo/groups/{group.id}/timeline/", headers=auth(token))
    big = make_group(make_project(alice, "big"), content=grid_yml(60))
    groups.stop_group(project_access("alice", "big", actor=alice), big.id)
    with count_queries() as large:
        response = client.get(
            f"/api/v1/alice/big/groups/{big.id}/timeline/?limit=5", headers=auth(token)
        )

    # group: created, stopped; each experiment: created, stopped; one stop action
    assert response.json["count"] == 2 + 2 * 60 + 1
    assert len(large) == len(small)


def test_ties_in_time_keep_group_then_experiment_then_action_order(app, client):
    alice, _, group = _world(n=1)
    groups.stop_group(_access(alice), group.id)
    moment = utcnow() - timedelta(minutes=1)
    for model in (GroupStatus, ExperimentStatus, GroupEvent):
        db.session.execute(update(model).values(created_at=moment))
    db.session.commit()

    sources = [i["source"] for i in _timeline(client, group, alice).json["results"]]

    assert sources == [
        "group_status",
        "group_status",
        "experiment_status",
        "experiment_status",
        "action",
    ]


def test_group_page_loads_the_timeline_fragment(app, client):
    alice, _, group = _world()
    sign_in(client, "alice")

    page = BeautifulSoup(client.get(f"/alice/demo/groups/{group.id}/").data, "html.parser")

    loader = page.select_one("#group-timeline")
    assert loader["hx-get"] == f"/alice/demo/groups/{group.id}/timeline"
    assert loader["hx-trigger"] == "load"


def test_timeline_fragment_lists_latest_first_with_older_link(app, client):
    alice, _, group = _world(n=1)
    for index in range(55):
        events.record(group.id, user=alice, kind="edit", message=f"Edit {index}.")
    db.session.commit()
    sign_in(client, "alice")

    response = client.get(f"/alice/demo/groups/{group.id}/timeline", headers={"HX-Request": "true"})
    fragment = BeautifulSoup(response.data, "html.parser")

    items = fragment.select("#group-timeline li.timeline-item")
    assert len(items) == 50
    assert "Edit 54." in items[0].get_text()
    older = fragment.select_one("#group-timeline a[rel=next]")
    assert older["hx-get"] == f"/alice/demo/groups/{group.id}/timeline?offset=50"
    assert not fragment.select_one("#group-timeline").has_attr("hx-trigger")
    last_page = BeautifulSoup(client.get(older["hx-get"]).data, "html.parser")
    # the five oldest edits, the experiment's and the group's `created`
    assert len(last_page.select("li.timeline-item")) == 7
    assert last_page.select_one("a[rel=prev]") is not None
