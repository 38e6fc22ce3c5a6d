"""One experiment through the JSON API: detail, update, heartbeat, stop, statuses, logs, and
the experiment's own credentials."""

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import ExperimentStatus
from dashboard.services.experiment import credentials
from dashboard.services.experiment.credentials import experiment_for_token, issue_experiment_token
from dashboard.services.group import statuses
from dashboard.storage import paths
from tests.factories import (
    add_member,
    auth,
    grid_yml,
    make_project,
    make_token,
    make_user,
    owner_with_group,
)
from tests.support.contract import EXPERIMENT_KEYS

STATUS_KEYS = {"id", "uuid", "created_at", "message", "status", "experiment"}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Not found."}
INVALID_TOKEN = {"detail": "Invalid token."}


def _url(experiment, suffix=""):
    return f"/api/v1/root/quick-start/experiments/{experiment.id}/{suffix}"


def _move(experiment, *steps):
    for status in steps:
        statuses.set_experiment_status(experiment, status)
    db.session.commit()


def _running_with_key(experiment):
    _move(experiment, "scheduled", "starting", "running")
    key = issue_experiment_token(experiment)
    db.session.commit()
    return auth(key)


def _statuses(experiment):
    return db.session.scalars(
        select(ExperimentStatus.status)
        .where(ExperimentStatus.experiment_id == experiment.id)
        .order_by(ExperimentStatus.id)
    ).all()


# ---- detail and update ------------------------------------------------------------------


def test_get_experiment_returns_the_row(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.get(_url(experiment), headers=root.headers)

    assert response.status_code == 200
    assert set(response.json) == EXPERIMENT_KEYS
    assert response.json["id"] == experiment.id
    assert response.json["experiment_group"] == f"root.quick-start.{root.group.id}"
    assert response.json["unique_name"] == f"root.quick-start.{root.group.id}.{experiment.id}"
    assert response.json["params"] == {"x": 0}
    assert response.json["last_metric"] == {}


def test_get_experiment_answers_without_trailing_slash(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.get(_url(experiment).rstrip("/"), headers=root.headers)

    assert response.status_code == 200


def test_get_unknown_experiment_is_404(client):
    root = owner_with_group(grid_yml(3))

    response = client.get(
        f"/api/v1/root/quick-start/experiments/{root.experiments[-1].id + 99}/",
        headers=root.headers,
    )

    assert response.status_code == 404
    assert response.json == NOT_FOUND


def test_get_experiment_of_another_project_is_404(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    make_project(root.user, "other")

    response = client.get(f"/api/v1/root/other/experiments/{experiment.id}/", headers=root.headers)

    assert response.status_code == 404


def test_patch_experiment_writes_name_description_tags_and_ignores_the_rest(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.patch(
        _url(experiment),
        headers=root.headers,
        json={
            "name": "first",
            "description": "d",
            "tags": ["a"],
            "run_env": {"python": "3"},
            "params": {"x": 9},
            "backend": "other",
        },
    )

    assert response.status_code == 200
    assert set(response.json) == EXPERIMENT_KEYS
    assert (response.json["name"], response.json["description"], response.json["tags"]) == (
        "first",
        "d",
        ["a"],
    )
    db.session.refresh(experiment)
    assert experiment.params == {"x": 0}


def test_patch_experiment_merges_tags_with_merge(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    client.patch(_url(experiment), headers=root.headers, json={"tags": ["a", "b"]})

    response = client.patch(
        _url(experiment), headers=root.headers, json={"tags": ["b", "c"], "merge": True}
    )

    assert response.json["tags"] == ["a", "b", "c"]


def test_patch_experiment_with_a_bad_name_is_400(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.patch(_url(experiment), headers=root.headers, json={"name": "has space"})

    assert response.status_code == 400
    assert list(response.json) == ["name"]


def test_heartbeat_answers_200_with_an_empty_body(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(_url(experiment, "_heartbeat/"), headers=root.headers)

    assert response.status_code == 200
    assert response.data == b""


# ---- stop -------------------------------------------------------------------------------


def test_stop_pending_experiment_stops_it_at_once(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(_url(experiment, "stop/"), headers=root.headers)

    assert response.status_code == 200
    db.session.refresh(experiment)
    assert experiment.status == "stopped"
    assert experiment.finished_at is not None
    assert _statuses(experiment) == ["created", "stopped"]


def test_stop_running_experiment_asks_the_worker(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    _move(experiment, "scheduled", "starting", "running")

    response = client.post(_url(experiment, "stop/"), headers=root.headers)

    assert response.status_code == 200
    db.session.refresh(experiment)
    assert experiment.status == "running"
    assert experiment.stop_requested_at is not None


def test_stop_finished_experiment_is_a_no_op(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    _move(experiment, "scheduled", "starting", "running", "succeeded")

    response = client.post(_url(experiment, "stop/"), headers=root.headers)

    assert response.status_code == 200
    db.session.refresh(experiment)
    assert experiment.status == "succeeded"
    assert experiment.stop_requested_at is None


def test_viewer_cannot_stop_an_experiment(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    viewer = make_user("viewer")
    add_member(root.project, viewer, "viewer")

    response = client.post(_url(experiment, "stop/"), headers=auth(make_token(viewer)))

    assert response.status_code == 403
    assert response.json == FORBIDDEN


# ---- statuses ---------------------------------------------------------------------------


def test_statuses_list_rows_oldest_first(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    _move(experiment, "scheduled", "starting")

    response = client.get(_url(experiment, "statuses/"), headers=root.headers)

    assert response.status_code == 200
    assert response.json["count"] == 3
    assert [row["status"] for row in response.json["results"]] == [
        "created",
        "scheduled",
        "starting",
    ]
    assert set(response.json["results"][0]) == STATUS_KEYS
    assert response.json["results"][0]["experiment"] == experiment.id


def test_admin_posts_an_allowed_status(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(
        _url(experiment, "statuses/"),
        headers=root.headers,
        json={"status": "scheduled", "message": "by hand"},
    )

    assert response.status_code == 201
    assert set(response.json) == STATUS_KEYS
    assert (response.json["status"], response.json["message"]) == ("scheduled", "by hand")


def test_admin_posting_an_illegal_status_is_400_naming_both(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(
        _url(experiment, "statuses/"), headers=root.headers, json={"status": "succeeded"}
    )

    assert response.status_code == 400
    assert response.json == {
        "status": ["Cannot change experiment status from created to succeeded."]
    }


def test_posting_an_unknown_status_is_400(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(
        _url(experiment, "statuses/"), headers=root.headers, json={"status": "exploded"}
    )

    assert response.status_code == 400
    assert list(response.json) == ["status"]


def test_experiment_posts_its_own_final_status(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    headers = _running_with_key(experiment)

    response = client.post(
        _url(experiment, "statuses/"),
        headers=headers,
        json={"status": "failed", "message": "boom", "traceback": "line 1"},
    )

    assert response.status_code == 201
    assert response.json["status"] == "failed"
    assert response.json["message"] == "boom\nline 1"
    db.session.refresh(experiment)
    assert experiment.status == "failed"


def test_experiment_cannot_post_a_transition_the_table_refuses(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    headers = _running_with_key(experiment)

    response = client.post(
        _url(experiment, "statuses/"), headers=headers, json={"status": "scheduled"}
    )

    assert response.status_code == 400
    assert response.json == {
        "status": ["Cannot change experiment status from running to scheduled."]
    }


def test_experiment_repeating_its_status_appends_nothing(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    headers = _running_with_key(experiment)

    response = client.post(
        _url(experiment, "statuses/"), headers=headers, json={"status": "running"}
    )

    assert response.status_code == 201
    assert _statuses(experiment) == ["created", "scheduled", "starting", "running"]


# ---- logs -------------------------------------------------------------------------------


def _log_file(app, project, group, experiment, text):
    path = paths.experiment_log_path(app.config, "root", project.name, group.id, experiment.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_logs_of_an_experiment_without_a_log_are_empty(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.get(_url(experiment, "logs/"), headers=root.headers)

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.data == b""


def test_logs_return_the_whole_log(app, client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    _log_file(app, root.project, root.group, experiment, "one\ntwo\nthree\n")

    response = client.get(_url(experiment, "logs/"), headers=root.headers)

    assert response.get_data(as_text=True) == "one\ntwo\nthree\n"


def test_logs_tail_returns_the_last_lines(app, client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    _log_file(app, root.project, root.group, experiment, "one\ntwo\nthree\n")

    response = client.get(_url(experiment, "logs/?tail=2"), headers=root.headers)

    assert response.get_data(as_text=True) == "two\nthree\n"


def test_logs_with_a_bad_tail_is_400(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.get(_url(experiment, "logs/?tail=-1"), headers=root.headers)

    assert response.status_code == 400
    assert response.json == {"detail": "tail must be a non-negative integer, not '-1'."}


def test_log_path_is_the_experiment_folder_rule(app):
    root = paths.experiment_dir(app.config, "root", "demo", 3, 7)

    assert root.parts[-6:] == ("root", "demo", "groups", "3", "experiments", "7")
    assert paths.experiment_log_path(app.config, "root", "demo", 3, 7) == (
        root / "logs" / "output.log"
    )
    assert paths.experiment_outputs_dir(app.config, "root", "demo", 3, 7) == root / "outputs"


def test_paths_refuse_names_that_leave_the_outputs_root(app):
    for owner, project in (("..", "demo"), ("root", "../x"), ("root", "a/b")):
        try:
            paths.experiment_dir(app.config, owner, project, 1, 1)
        except ValueError:
            continue
        raise AssertionError(f"{owner}/{project} was accepted")


# ---- the experiment's own credentials ------------------------------------------------------


def test_issue_experiment_token_stores_only_the_hash(app):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    key = issue_experiment_token(experiment)

    assert key not in (experiment.token_hash or "")
    assert len(experiment.token_hash) == 64


def test_experiment_for_token_finds_the_unfinished_experiment(app):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    _move(experiment, "scheduled", "starting")
    key = issue_experiment_token(experiment)
    db.session.commit()

    assert experiment_for_token(key) == experiment
    assert experiment_for_token(key + "0") is None


def test_experiment_for_token_expires_with_the_experiment(app):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    key = issue_experiment_token(experiment)
    _move(experiment, "scheduled", "starting", "running", "succeeded")

    assert experiment_for_token(key) is None


def test_experiment_key_reads_its_own_experiment(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    headers = _running_with_key(experiment)

    response = client.get(_url(experiment), headers=headers)

    assert response.status_code == 200
    assert response.json["id"] == experiment.id


def test_experiment_key_patches_its_own_experiment(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    headers = _running_with_key(experiment)

    response = client.patch(_url(experiment), headers=headers, json={"run_env": {"a": 1}})

    assert response.status_code == 200


def test_experiment_key_sends_heartbeats(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    headers = _running_with_key(experiment)

    response = client.post(_url(experiment, "_heartbeat/"), headers=headers)

    assert response.status_code == 200


def test_experiment_key_on_another_experiment_is_404(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    other = root.experiments[1]
    headers = _running_with_key(experiment)

    response = client.get(_url(other), headers=headers)

    assert response.status_code == 404
    assert response.json == NOT_FOUND


def test_experiment_key_cannot_stop_or_read_logs(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    headers = _running_with_key(experiment)

    stop = client.post(_url(experiment, "stop/"), headers=headers)
    logs = client.get(_url(experiment, "logs/"), headers=headers)

    assert (stop.status_code, stop.json) == (403, FORBIDDEN)
    assert (logs.status_code, logs.json) == (403, FORBIDDEN)


def test_experiment_key_cannot_use_group_or_user_routes(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    headers = _running_with_key(experiment)

    for method, url in (
        ("GET", f"/api/v1/root/quick-start/groups/{root.group.id}/"),
        ("POST", f"/api/v1/root/quick-start/groups/{root.group.id}/stop/"),
        ("GET", "/api/v1/users/"),
        ("GET", "/api/v1/root/quick-start/"),
    ):
        response = client.open(url, method=method, headers=headers)
        assert (response.status_code, response.json) == (403, FORBIDDEN), url


def test_experiment_key_may_ask_the_public_routes(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    headers = _running_with_key(experiment)

    response = client.get("/api/v1/versions/cli/", headers=headers)

    assert response.status_code == 200


def test_key_of_a_finished_experiment_is_an_invalid_token(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    headers = _running_with_key(experiment)
    _move(experiment, "succeeded")

    response = client.get(_url(experiment), headers=headers)

    assert response.status_code == 401
    assert response.json == INVALID_TOKEN
    assert response.headers["WWW-Authenticate"] == "Token"


def test_unknown_experiment_key_is_an_invalid_token(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    key = credentials.EXPERIMENT_KEY_PREFIX + "0" * 40

    response = client.get(_url(experiment), headers=auth(key))

    assert response.status_code == 401
    assert response.json == INVALID_TOKEN
