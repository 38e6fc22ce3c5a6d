"""The rules of what a group stores (name, description, tags, concurrency), held by the service
itself, so every transport (API, UI, a direct call) gets the same answer."""

import pytest
from sqlalchemy import select

from dashboard.errors import ValidationError
from dashboard.extensions import db
from dashboard.models import ExperimentGroup
from dashboard.services.group import groups
from dashboard.services.project.access import project_access
from tests.factories import grid_yml, make_group, make_project, make_user


def _world():
    owner = make_user("alice")
    project = make_project(owner, "demo")
    group = make_group(project, content=grid_yml(2), description="kept", tags=["a"])
    return project_access("alice", "demo", actor=owner), group.id


def _stored(group_id):
    db.session.rollback()
    group = db.session.scalar(select(ExperimentGroup).where(ExperimentGroup.id == group_id))
    return group.name, group.description, group.tags, group.concurrency


@pytest.mark.parametrize(
    "fields,field,message",
    [
        ({"concurrency": 50000}, "concurrency", "whole number from 1 to 10,000"),
        ({"concurrency": 0}, "concurrency", "whole number from 1 to 10,000"),
        ({"concurrency": "5"}, "concurrency", "whole number from 1 to 10,000"),
        ({"concurrency": True}, "concurrency", "whole number from 1 to 10,000"),
        ({"tags": [f"t{i}" for i in range(51)]}, "tags", "At most 50 tags"),
        ({"tags": ["t" * 65]}, "tags", "at most 64 characters"),
        ({"tags": [" "]}, "tags", "non-empty"),
        ({"tags": "a,b"}, "tags", "a list of strings"),
        ({"description": "d" * 10001}, "description", "too long"),
        ({"name": "a b"}, "name", "Enter a valid name"),
    ],
)
def test_update_group_refuses_a_value_past_its_rule_and_writes_nothing(app, fields, field, message):
    access, group_id = _world()
    before = _stored(group_id)

    with pytest.raises(ValidationError) as raised:
        groups.update_group(access, group_id, fields={"description": "changed", **fields})

    assert list(raised.value.fields) == [field]
    assert message in raised.value.fields[field][0]
    assert _stored(group_id) == before


def test_update_group_names_every_field_at_fault(app):
    access, group_id = _world()

    with pytest.raises(ValidationError) as raised:
        groups.update_group(
            access, group_id, fields={"description": "d" * 10001, "concurrency": 10001}
        )

    assert set(raised.value.fields) == {"description", "concurrency"}


def test_update_group_accepts_the_bounds(app):
    access, group_id = _world()

    groups.update_group(
        access,
        group_id,
        fields={"concurrency": 10000, "tags": ["t" * 64] + [f"t{i}" for i in range(49)]},
    )

    assert _stored(group_id)[2:] == (["t" * 64] + [f"t{i}" for i in range(49)], 10000)


def test_merged_tags_are_held_to_the_rule_too(app):
    access, group_id = _world()

    with pytest.raises(ValidationError) as raised:
        groups.update_group(
            access, group_id, fields={"tags": [f"t{i}" for i in range(50)], "merge": True}
        )

    assert list(raised.value.fields) == ["tags"]
    assert _stored(group_id)[2] == ["a"]


def test_a_polyaxonfile_past_the_tags_rule_is_refused_on_content(app):
    owner = make_user("alice")
    project = make_project(owner, "demo")
    tags = ", ".join(f"t{i}" for i in range(51))

    with pytest.raises(ValidationError) as raised:
        make_group(project, content=f"tags: [{tags}]\n" + grid_yml(1))

    assert raised.value.fields == {"content": ["tags: At most 50 tags are allowed."]}
    assert db.session.scalar(select(ExperimentGroup.id)) is None


def test_create_group_holds_its_arguments_to_the_rules(app):
    owner = make_user("alice")
    project = make_project(owner, "demo")

    with pytest.raises(ValidationError) as raised:
        make_group(project, content=grid_yml(1), description="d" * 10001)

    assert list(raised.value.fields) == ["description"]
