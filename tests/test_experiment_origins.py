"""An experiment names the experiment it continues and how (EXTENSIONS.md section 1), in the
API's details and lists; an asha promotion continues one without being a clone."""

from sqlalchemy import delete

from dashboard.extensions import db
from dashboard.models import Experiment
from tests.factories import grid_yml, owner_with_group


def _detail(client, root, experiment):
    url = f"/api/v1/root/quick-start/experiments/{experiment.id}/"
    response = client.get(url, headers=root.headers)
    assert response.status_code == 200
    return response.json


def test_a_new_experiment_continues_none(client):
    root = owner_with_group(grid_yml(2))

    body = _detail(client, root, root.experiments[0])

    assert body["original_experiment"] is None
    assert body["cloning_strategy"] is None
    assert body["is_clone"] is False


def test_a_promotion_names_its_original_and_a_clone_its_strategy_in_details_and_lists(client):
    root = owner_with_group(grid_yml(3))
    first, promoted, cloned = root.experiments
    promoted.original_experiment_id = first.id
    cloned.original_experiment_id, cloned.cloning_strategy = first.id, "resume"
    db.session.commit()

    assert _detail(client, root, promoted)["original_experiment"] == first.id
    assert _detail(client, root, promoted)["is_clone"] is False
    assert _detail(client, root, cloned)["cloning_strategy"] == "resume"
    assert _detail(client, root, cloned)["is_clone"] is True
    listed = client.get(
        "/api/v1/root/quick-start/experiments/",
        query_string={"group": root.group.id},
        headers=root.headers,
    ).json["results"]
    assert [(r["original_experiment"], r["is_clone"]) for r in listed] == [
        (None, False),
        (first.id, False),
        (first.id, True),
    ]


def test_deleting_the_original_leaves_its_continuations_naming_none(app):
    root = owner_with_group(grid_yml(2))
    first, promoted = root.experiments
    promoted.original_experiment_id = first.id
    db.session.commit()

    db.session.execute(delete(Experiment).where(Experiment.id == first.id))
    db.session.commit()
    db.session.expire_all()

    assert db.session.get(Experiment, promoted.id).original_experiment_id is None
