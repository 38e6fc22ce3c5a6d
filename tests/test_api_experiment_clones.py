"""Restart, resume and copy of one experiment through the API (EXTENSIONS.md section 2): a new
experiment of the group with the same params (or content's), its original and strategy named,
the original's code unless update_code, a final group running again, the timeline told."""

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, GroupEvent, GroupStatus, RepoUpload
from tests.factories import finish, owner_with_group

DECLARED = (
    "version: 1\nkind: group\nhptuning:\n  concurrency: 2\n  matrix:\n"
    "    x: {values: [1, 2]}\nparams: {lr: 0.1, batch: 32}\nrun:\n  cmd: echo {{ x }}\n"
)
STRATEGIES = ("restart", "resume", "copy")


def _url(root, experiment_id, strategy):
    return f"/api/v1/root/quick-start/experiments/{experiment_id}/{strategy}/"


def _post(client, root, strategy, body=None, experiment=None):
    experiment_id = experiment if experiment is not None else root.experiments[0].id
    return client.post(_url(root, experiment_id, strategy), json=body or {}, headers=root.headers)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_strategy_makes_a_new_experiment_of_the_group_naming_its_original(client, strategy):
    root = owner_with_group(DECLARED)
    finish(root.group)

    response = _post(client, root, strategy)

    assert response.status_code == 201, response.json
    body = response.json
    original = root.experiments[0]
    assert body["id"] not in {e.id for e in root.experiments}
    assert body["params"] == original.params
    assert body["original_experiment"] == original.id
    assert body["cloning_strategy"] == strategy
    assert body["is_clone"] is True
    assert body["last_status"] == "created"
    assert body["experiment_group"] == f"root.quick-start.{root.group.id}"


def test_a_final_group_goes_back_to_running_saying_who_restarted_what(client):
    root = owner_with_group(DECLARED)
    finish(root.group)
    root.group.status = "succeeded"
    db.session.commit()

    new_id = _post(client, root, "restart").json["id"]

    db.session.expire_all()
    assert root.group.status == "running"
    last = db.session.scalars(
        select(GroupStatus).where(GroupStatus.group_id == root.group.id).order_by(GroupStatus.id)
    ).all()[-1]
    assert (last.status, last.message) == (
        "running",
        f"Running again: experiment {root.experiments[0].id} restarted by root.",
    )
    event = db.session.scalars(
        select(GroupEvent).where(GroupEvent.group_id == root.group.id)
    ).all()[-1]
    assert (event.kind, event.user_id) == ("experiment_restart", root.user.id)
    assert event.message == f"Restarted experiment {root.experiments[0].id} as experiment {new_id}."


def test_content_as_the_cli_sends_it_overrides_declared_params(client):
    root = owner_with_group(DECLARED)
    finish(root.group)
    # polyaxon-cli 0.6.1 sends '{}'.format(rhea.read(files)): a Python dict's repr.
    content = repr({"version": 1, "kind": "experiment", "declarations": {"lr": 1e-05}})

    response = _post(client, root, "copy", {"content": content})

    assert response.status_code == 201, response.json
    assert response.json["params"] == {**root.experiments[0].params, "lr": 1e-05}


def test_content_as_yaml_params_overrides_too(client):
    root = owner_with_group(DECLARED)

    response = _post(client, root, "restart", {"content": "params:\n  batch: 64\n"})

    assert response.status_code == 201, response.json
    assert response.json["params"]["batch"] == 64


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- 1\n- 2\n", "content must be a mapping"),
        ("params: [1, 2]\n", "params must be a mapping"),
        ("declarations: {lr: 1\n", "invalid YAML"),
        ("params: {momentum: 0.9}\n", "The experiment has no param 'momentum'"),
        ("params: {x: 7}\n", "'x' is decided by the group's search"),
        ("params: {lr: .nan}\n", "'lr' must be a JSON value"),
        ("run: {cmd: rm -rf /}\n", "Only params (or declarations) can change"),
    ],
)
def test_bad_content_is_a_400_naming_content_and_creates_nothing(client, content, message):
    root = owner_with_group(DECLARED)

    response = _post(client, root, "restart", {"content": content})

    assert response.status_code == 400
    assert list(response.json) == ["content"]
    assert message in response.json["content"][0]
    assert _count(root) == 2


def test_huge_content_is_refused(client):
    root = owner_with_group(DECLARED)

    response = _post(client, root, "restart", {"content": "params: {lr: 1}\n" + "#" * 70000})

    assert response.status_code == 400
    assert list(response.json) == ["content"]
    assert _count(root) == 2


def test_update_code_must_be_a_boolean(client):
    root = owner_with_group(DECLARED)

    response = _post(client, root, "restart", {"update_code": "yes"})

    assert response.status_code == 400
    assert list(response.json) == ["update_code"]


def test_an_unknown_experiment_is_a_404(client):
    root = owner_with_group(DECLARED)

    assert _post(client, root, "resume", experiment=10**6).status_code == 404


def _upload(root):
    upload = RepoUpload(project_id=root.project.id, user_id=root.user.id, path="/x", size=1)
    db.session.add(upload)
    db.session.commit()
    return upload.id


def test_a_clone_runs_its_originals_code_unless_update_code(client):
    root = owner_with_group(DECLARED)
    first = _upload(root)
    root.experiments[0].code_upload_id = first
    db.session.commit()
    _upload(root)  # a later upload: the latest

    kept = _post(client, root, "restart").json["id"]
    latest = _post(client, root, "restart", {"update_code": True}).json["id"]

    assert db.session.get(Experiment, kept).code_upload_id == first
    assert db.session.get(Experiment, latest).code_upload_id is None  # the latest, at launch


def test_resume_is_refused_while_another_experiment_writes_into_that_folder(client):
    root = owner_with_group(DECLARED)
    finish(root.group)
    resumed = _post(client, root, "resume").json["id"]

    again = _post(client, root, "resume")
    of_the_resume = _post(client, root, "resume", experiment=resumed)

    for response in (again, of_the_resume):
        assert response.status_code == 400
        assert (
            f"while experiment {resumed} writes into the same outputs folder"
            in (response.json["detail"])
        )
    assert _post(client, root, "copy").status_code == 201  # restart and copy write elsewhere


def test_a_stopping_group_takes_no_clone(client):
    root = owner_with_group(DECLARED)
    root.group.status = "stopping"
    db.session.commit()

    response = _post(client, root, "restart")

    assert response.status_code == 400
    assert "is stopping" in response.json["detail"]


def _count(root):
    db.session.expire_all()
    return len(
        db.session.scalars(select(Experiment.id).where(Experiment.group_id == root.group.id)).all()
    )
