"""Cloning a group and narrowing its search around the best experiment through the JSON API
(EXTENSIONS.md section 2: POST groups/{id}/clone, GET groups/{id}/around-best)."""

import pytest
import yaml
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.hptuning import parse_group_spec
from dashboard.models import ExperimentGroup, GroupEvent
from tests.factories import (
    add_member,
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
    owner_with_group,
    owner_with_project,
)
from tests.support.around_best import searched_group
from tests.support.contract import GROUP_DETAIL_KEYS


def _url(owner, suffix):
    return f"/api/v1/root/quick-start/groups/{owner.group.id}/{suffix}"


def _searched(objective=("loss", "minimize")):
    """root's project with the SEARCH group, finished, optimising `objective` when given."""
    owner = owner_with_project()
    owner.group = searched_group(owner.project, objective)
    return owner


def _viewer(owner):
    viewer = make_user("vera")
    add_member(owner.project, viewer, "viewer")
    return auth(make_token(viewer))


# ---- clone -------------------------------------------------------------------------------


def test_clone_without_a_body_copies_the_polyaxonfile_and_records_where_it_came_from(client):
    owner = owner_with_group(grid_yml(3), name="first")

    response = client.post(_url(owner, "clone/"), headers=owner.headers)

    assert response.status_code == 201
    assert set(response.json) == GROUP_DETAIL_KEYS
    assert response.json["cloned_from"] == owner.group.id
    assert response.json["content"] == grid_yml(3)
    assert response.json["name"] is None
    assert response.json["num_experiments"] == 3
    assert response.json["id"] != owner.group.id


def test_clone_takes_the_content_name_and_description_given(client):
    owner = owner_with_group(grid_yml(3))

    response = client.post(
        _url(owner, "clone/"),
        json={"content": grid_yml(2), "name": "again", "description": "smaller"},
        headers=owner.headers,
    )

    assert response.status_code == 201
    body = response.json
    assert (body["content"], body["name"], body["description"]) == (grid_yml(2), "again", "smaller")
    assert body["num_experiments"] == 2
    assert body["cloned_from"] == owner.group.id


def test_clone_drops_the_name_its_polyaxonfile_gives(client):
    owner = owner_with_group("name: named\n" + grid_yml(2))
    assert owner.group.name == "named"

    response = client.post(_url(owner, "clone/"), headers=owner.headers)

    assert response.status_code == 201
    assert response.json["name"] is None


def test_clone_with_a_taken_name_is_refused_and_creates_nothing(client):
    owner = owner_with_group(grid_yml(2), name="first")

    response = client.post(_url(owner, "clone/"), json={"name": "first"}, headers=owner.headers)

    assert response.status_code == 400
    assert response.json == {"name": ["A group named 'first' already exists in this project."]}
    assert db.session.scalars(select(ExperimentGroup.id)).all() == [owner.group.id]


def test_clone_with_invalid_content_names_the_problem(client):
    owner = owner_with_group(grid_yml(2))

    response = client.post(
        _url(owner, "clone/"), json={"content": "version: 1\nkind: job"}, headers=owner.headers
    )

    assert response.status_code == 400
    assert "content" in response.json


def test_clone_refuses_unknown_fields(client):
    owner = owner_with_group(grid_yml(2))

    response = client.post(_url(owner, "clone/"), json={"contnet": "x"}, headers=owner.headers)

    assert response.status_code == 400
    assert response.json == {"contnet": ["Extra inputs are not permitted"]}


def test_clone_is_recorded_on_the_original_with_who_cloned_it(client):
    owner = owner_with_group(grid_yml(2))

    clone = client.post(_url(owner, "clone/"), headers=owner.headers).json["id"]

    event = db.session.scalars(
        select(GroupEvent).where(GroupEvent.group_id == owner.group.id, GroupEvent.kind == "clone")
    ).one()
    assert (event.user_id, event.message) == (
        owner.user.id,
        f"Cloned the group as group {clone}.",
    )
    assert event.data == {"group": clone}


def test_a_viewer_cannot_clone(client):
    owner = owner_with_group(grid_yml(2))

    response = client.post(_url(owner, "clone/"), headers=_viewer(owner))

    assert response.status_code == 403
    assert db.session.scalars(select(ExperimentGroup.id)).all() == [owner.group.id]


def test_a_group_of_another_project_cannot_be_cloned(client):
    owner = owner_with_group(grid_yml(2))
    elsewhere = make_group(make_project(owner.user, "elsewhere"), content=grid_yml(1))

    response = client.post(
        f"/api/v1/root/quick-start/groups/{elsewhere.id}/clone/", headers=owner.headers
    )

    assert response.status_code == 404


# ---- around-best -------------------------------------------------------------------------


def test_around_best_answers_the_polyaxonfile_narrowed_as_yaml(client):
    owner = _searched()

    response = client.get(_url(owner, "around-best/?spread=0.25"), headers=owner.headers)

    assert response.status_code == 200
    assert response.mimetype == "text/yaml"
    matrix = parse_group_spec(response.get_data(as_text=True)).matrix
    assert matrix == {
        "lr": {"linspace": {"start": 0.25, "stop": 0.75, "num": 5}},
        "units": {"values": [30]},
        "act": {"values": ["relu", "tanh"]},
    }


def test_around_best_keeps_the_rest_of_the_polyaxonfile(client):
    owner = _searched()

    text = client.get(_url(owner, "around-best/"), headers=owner.headers).get_data(as_text=True)

    document = yaml.safe_load(text)
    assert document["run"] == {"cmd": "train --lr={{ lr }} --units={{ units }} --act={{ act }}"}
    assert (document["version"], document["kind"]) == (1, "group")
    assert document["hptuning"]["concurrency"] == 2


def test_around_best_spreads_a_quarter_by_default(client):
    owner = _searched()

    default = client.get(_url(owner, "around-best/"), headers=owner.headers)
    quarter = client.get(_url(owner, "around-best/?spread=0.25"), headers=owner.headers)

    assert default.get_data() == quarter.get_data()


def test_around_best_follows_the_objective_direction(client):
    owner = _searched(objective=("loss", "maximize"))

    text = client.get(_url(owner, "around-best/?spread=0.5"), headers=owner.headers)

    # The largest loss is at lr 0 or 1 with units 10; the last such experiment has the most.
    matrix = parse_group_spec(text.get_data(as_text=True)).matrix
    assert matrix["units"] == {"values": [10, 20]}


def test_a_viewer_may_read_around_best(client):
    owner = _searched()

    response = client.get(_url(owner, "around-best/"), headers=_viewer(owner))

    assert response.status_code == 200


def test_around_best_without_an_objective_says_so(client):
    owner = _searched(objective=None)

    response = client.get(_url(owner, "around-best/"), headers=owner.headers)

    assert response.status_code == 400
    assert response.json == {
        "detail": "The group has no objective: choose the metric to optimise on its page first."
    }


def test_around_best_without_a_best_experiment_says_so(client):
    owner = _searched(objective=("accuracy", "maximize"))

    response = client.get(_url(owner, "around-best/"), headers=owner.headers)

    assert response.status_code == 400
    assert response.json == {
        "detail": "No experiment of the group has reported accuracy yet: there is no best one."
    }


@pytest.mark.parametrize("spread", ["0", "-1", "2", "1.5", "abc", "nan", "inf", "", "9" * 5000])
def test_around_best_refuses_a_spread_outside_zero_to_one(client, spread):
    owner = _searched()

    response = client.get(_url(owner, f"around-best/?spread={spread}"), headers=owner.headers)

    assert response.status_code == 400
    assert list(response.json) == ["spread"]
    assert response.json["spread"][0].startswith(
        "The spread must be a number greater than 0 and at most 1, got '"
    )


def test_around_best_accepts_a_spread_of_one(client):
    owner = _searched()

    response = client.get(_url(owner, "around-best/?spread=1"), headers=owner.headers)

    matrix = parse_group_spec(response.get_data(as_text=True)).matrix
    assert matrix["lr"] == {"linspace": {"start": 0, "stop": 1, "num": 5}}
    assert matrix["units"] == {"values": [10, 20, 30, 40]}
