"""A group's concurrency is stored once, in its column; the hptuning its answers show is built
from it, and migration 0010 takes the old copy out of stored rows."""

import json

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from dashboard.extensions import db
from dashboard.models import ExperimentGroup
from dashboard.services.group import groups
from dashboard.services.project.access import project_access
from tests.factories import RANDOM_YML, auth, make_group, make_project, make_token, make_user


def _stored_hptuning(group_id):
    raw = db.session.execute(
        text("SELECT hptuning FROM experiment_groups WHERE id = :id"), {"id": group_id}
    ).scalar_one()
    return json.loads(raw)


def test_a_new_group_stores_its_concurrency_in_its_column_only(app):
    group = make_group(make_project(make_user("alice"), "demo"), content=RANDOM_YML)

    assert group.concurrency == 5
    assert "concurrency" not in _stored_hptuning(group.id)
    assert list(groups.hptuning_of(group))[:2] == ["concurrency", "seed"]
    assert groups.hptuning_of(group)["concurrency"] == 5


def test_an_update_changes_the_one_stored_value_and_the_answer_shows_it(client):
    owner = make_user("alice")
    group = make_group(make_project(owner, "demo"), content=RANDOM_YML)
    access = project_access("alice", "demo", actor=owner)

    groups.update_group(access, group.id, fields={"concurrency": 7})
    answer = client.get(
        f"/api/v1/alice/demo/groups/{group.id}/", headers=auth(make_token(owner))
    ).json

    assert "concurrency" not in _stored_hptuning(group.id)
    assert answer["concurrency"] == answer["hptuning"]["concurrency"] == 7
    assert list(answer["hptuning"])[0] == "concurrency"


def test_migration_0010_takes_the_copy_out_and_its_downgrade_puts_it_back_first(app, client):
    owner = make_user("alice")
    group = make_group(make_project(owner, "demo"), content=RANDOM_YML)
    db.session.execute(db.update(ExperimentGroup).values(concurrency=3))
    db.session.commit()
    url = f"/api/v1/alice/demo/groups/{group.id}/"
    headers = auth(make_token(owner))
    before = client.get(url, headers=headers).json
    db.session.remove()
    try:
        downgrade(revision="0009")
        old = _stored_hptuning(group.id)
        db.session.remove()
    finally:
        upgrade()

    assert list(old)[0] == "concurrency" and old["concurrency"] == 3
    assert "concurrency" not in _stored_hptuning(group.id)
    assert client.get(url, headers=headers).json["hptuning"] == before["hptuning"]
