"""The published polyaxon-client 0.6.1 drives the experiment-group API of a live server.

tests/client/driver.py runs in the client's own venv (scripts/client-venv.sh) and performs the
whole scenario once; each subtest asserts one behaviour on the steps it recorded.
"""

import importlib.util
import json
import re
import sys
from pathlib import Path

from tests.support.contract import GROUP_DETAIL_KEYS

_HELPERS_PATH = Path(__file__).resolve().parent / "client" / "conftest_helpers.py"
if "client_compat_helpers" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("client_compat_helpers", _HELPERS_PATH)
    sys.modules["client_compat_helpers"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["client_compat_helpers"])
h = sys.modules["client_compat_helpers"]

PROJECT = "demo"
MATRIX = ("learning_rate", "dropout", "activation")
UPDATED_DESCRIPTION = "updated by the client harness"  # as in driver.py
ISO_WITH_OFFSET = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
)


def run_scenario(live_server, client_venv, home):
    """Run the driver's full scenario against a fresh user and project: (output, owner)."""
    owner = h.make_user(live_server, "client")
    token = h.make_token(live_server, owner)
    h.cli_ok(live_server, "create-project", owner, PROJECT)
    return h.run_driver(client_venv, live_server, token, owner, PROJECT, home), owner


def step(scenario, name):
    return h.step_ok(scenario[0], name)


def group_id(scenario):
    return step(scenario, "create")["value"]["id"]


def group_path(scenario, suffix=""):
    """The path the client requests for the scenario's group (always with a trailing slash)."""
    return f"api/v1/{scenario[1]}/{PROJECT}/groups/{group_id(scenario)}/{suffix}"


def paths(step_result):
    return [
        (method, url.split("?")[0].split(":", 2)[2].split("/", 1)[1])
        for method, url, _ in step_result["calls"]
    ]


# --- bootstrap routes -------------------------------------------------------------------------


def check_client_reads_the_authenticated_user(scenario):
    user = step(scenario, "user")["value"]
    assert user["username"] == scenario[1]
    assert user["is_superuser"] is False


def check_client_reads_cli_versions(scenario):
    assert step(scenario, "cli_version")["value"] == {
        "latest_version": "0.6.1",
        "min_version": "0.6.0",
    }


def check_client_reads_log_handler_without_dsn(scenario):
    assert step(scenario, "log_handler")["value"] == {
        "dsn": None,
        "environment": "production",
        "tags": {},
    }


def check_client_gets_the_project(scenario):
    project = step(scenario, "project_get")["value"]
    assert project["name"] == PROJECT
    assert project["unique_name"] == f"{scenario[1]}.{PROJECT}"
    assert project["user"] == scenario[1]


def check_client_lists_the_owners_projects(scenario):
    listed = step(scenario, "projects_list")["value"]
    assert PROJECT in [p["name"] for p in listed["results"]]


# --- groups -----------------------------------------------------------------------------------


def check_client_creates_group_with_201(scenario):
    created = step(scenario, "create")
    assert created["status"] == 201
    assert paths(created) == [("POST", f"api/v1/{scenario[1]}/{PROJECT}/groups/")]
    group = created["value"]
    assert isinstance(group["id"], int)
    assert group["unique_name"] == f"{scenario[1]}.{PROJECT}.{group['id']}"
    assert group["search_algorithm"] == "random"
    assert group["concurrency"] == 5
    # The client sends the file re-serialised as JSON text; it is stored as sent.
    assert json.loads(group["content"])["hptuning"]["random_search"] == {"n_experiments": 10}


def check_client_gets_group_detail(scenario):
    got = step(scenario, "get")
    assert got["status"] == 200
    group = got["value"]
    assert group["id"] == group_id(scenario)
    assert group["unique_name"] == f"{scenario[1]}.{PROJECT}.{group['id']}"
    assert group["user"] == scenario[1]
    assert group["project"] == f"{scenario[1]}.{PROJECT}"
    assert group["search_algorithm"] == "random"
    assert group["concurrency"] == 5
    assert group["num_experiments"] == 10
    assert group["last_status"] in {"created", "running"}


def check_group_detail_json_has_the_reference_fields(scenario):
    group = step(scenario, "raw_get")["value"]
    assert set(group) == GROUP_DETAIL_KEYS
    assert re.fullmatch(r"[0-9a-f]{32}", group["uuid"])
    assert ISO_WITH_OFFSET.match(group["created_at"]), group["created_at"]
    assert group["current_iteration"] == 0
    assert group["has_tensorboard"] is None
    assert group["bookmarked"] is False


def check_group_hptuning_is_normalised(scenario):
    hptuning = step(scenario, "raw_get")["value"]["hptuning"]
    assert hptuning["concurrency"] == 5
    assert hptuning["seed"] is None
    assert hptuning["early_stopping"] is None
    assert hptuning["random_search"] == {"n_experiments": 10}
    assert hptuning["matrix"] == {
        "learning_rate": {"linspace": {"start": 0.001, "stop": 0.1, "num": 5}},
        "dropout": {"values": [0.25, 0.3]},
        "activation": {"values": ["relu", "sigmoid"]},
    }


def check_client_updates_group_description(scenario):
    updated = step(scenario, "update")
    assert updated["status"] == 200
    assert paths(updated) == [("PATCH", group_path(scenario))]
    assert updated["value"]["description"] == UPDATED_DESCRIPTION
    assert updated["value"]["id"] == group_id(scenario)


def check_client_lists_statuses_starting_with_created(scenario):
    statuses = step(scenario, "statuses")["value"]
    assert statuses["count"] >= 1
    first = statuses["results"][0]
    assert first["status"] == "created"
    assert first["experiment_group"] == group_id(scenario)


def check_client_creates_a_status_row(scenario):
    created = step(scenario, "create_status")
    assert created["status"] == 201
    row = created["value"]
    assert row["experiment_group"] == group_id(scenario)
    assert row["message"] == "posted by the client harness"
    after = step(scenario, "statuses_after_create")["value"]
    assert after["count"] >= step(scenario, "statuses")["value"]["count"] + 1
    assert row["id"] in [r["id"] for r in after["results"]]


def check_client_bookmarks_group_with_201_idempotently(scenario):
    assert step(scenario, "bookmark")["status"] == 201
    assert step(scenario, "bookmark_again")["status"] == 201
    assert step(scenario, "raw_get_bookmarked")["value"]["bookmarked"] is True


def check_client_lists_bookmarked_groups_of_the_user(scenario):
    listed = step(scenario, "bookmarked_groups")
    assert paths(listed) == [("GET", f"api/v1/bookmarks/{scenario[1]}/groups/")]
    assert [g["id"] for g in listed["value"]["results"]] == [group_id(scenario)]
    assert listed["value"]["count"] == 1


def check_client_unbookmarks_group_with_204(scenario):
    assert step(scenario, "unbookmark")["status"] == 204
    assert step(scenario, "bookmarked_after_unbookmark")["value"]["results"] == []


def check_unbookmarking_twice_is_404(scenario):
    again = scenario[0]["steps"]["unbookmark_again"]
    assert not again["ok"]
    assert again["error_status"] == 404


def check_client_lists_ten_distinct_experiments_of_the_group(scenario):
    listed = step(scenario, "experiments")
    method, url, _ = listed["calls"][-1]
    assert (method, url.split(":", 2)[2].split("/", 1)[1]) == (
        "GET",
        f"api/v1/{scenario[1]}/{PROJECT}/experiments/?group={group_id(scenario)}",
    )
    experiments = listed["value"]
    assert experiments["count"] == 10
    rows = experiments["results"]
    assert len(rows) == 10
    unique_name = step(scenario, "create")["value"]["unique_name"]
    for row in rows:
        assert row["experiment_group"] == unique_name
        assert row["unique_name"] == f"{unique_name}.{row['id']}"
        assert set(MATRIX) <= set(row["params"])
        assert row["params"]["dropout"] in (0.25, 0.3)
        assert row["params"]["activation"] in ("relu", "sigmoid")
        assert any(
            abs(row["params"]["learning_rate"] - v) < 1e-9
            for v in (0.001, 0.02575, 0.0505, 0.07525, 0.1)
        )
    assert len({tuple(r["params"][name] for name in MATRIX) for r in rows}) == 10


def check_client_lists_groups_of_the_project(scenario):
    listed = step(scenario, "groups")["value"]
    assert group_id(scenario) in [g["id"] for g in listed["results"]]
    row = next(g for g in listed["results"] if g["id"] == group_id(scenario))
    assert row["search_algorithm"] == "random"
    assert row["concurrency"] == 5


def check_client_stops_pending_experiments(scenario):
    stopped = step(scenario, "stop_pending")
    assert stopped["status"] == 200
    assert paths(stopped) == [("POST", group_path(scenario, "stop/"))]


def check_client_stops_group(scenario):
    assert step(scenario, "stop")["status"] == 200
    group = step(scenario, "get_after_stop")["value"]
    assert group["last_status"] in {"stopping", "stopped"}
    assert group["num_experiments"] == 10


def check_client_starts_tensorboard_with_201_then_200(scenario):
    first = step(scenario, "tensorboard_start")
    again = step(scenario, "tensorboard_start_again")
    assert first["status"] == 201
    assert again["status"] == 200
    job = first["value"]["json"]
    gid = group_id(scenario)
    assert job["experiment_group"] == gid
    assert job["unique_name"] == f"{scenario[1]}.{PROJECT}.tensorboards.{job['id']}"
    assert job["url"] == f"/tensorboard/{scenario[1]}/{PROJECT}/groups/{gid}/"
    assert again["value"]["json"]["id"] == job["id"]
    assert step(scenario, "raw_get_with_tensorboard")["value"]["has_tensorboard"] is True


def check_client_lists_the_projects_tensorboards(scenario):
    listed = step(scenario, "tensorboards")
    project = f"api/v1/{scenario[1]}/{PROJECT}/"
    assert paths(listed) == [("GET", f"{project}tensorboards/")]
    selection = step(scenario, "selection_start")["value"]
    group_job = step(scenario, "tensorboard_start")["value"]["json"]
    assert listed["value"]["count"] == 2
    jobs = listed["value"]["results"]  # TensorboardJobConfig, newest first
    assert [(j["id"], j["experiment_group"]) for j in jobs] == [
        (selection["id"], None),
        (group_job["id"], group_id(scenario)),
    ]
    assert jobs[0]["unique_name"] == f"{scenario[1]}.{PROJECT}.tensorboards.{selection['id']}"
    assert step(scenario, "selection_stop")["value"]["last_status"] == "stopped"


def check_client_stops_tensorboard(scenario):
    stopped = step(scenario, "tensorboard_stop")
    assert stopped["status"] == 200
    assert paths(stopped) == [("POST", group_path(scenario, "tensorboard/stop/"))]


def check_client_restarts_resumes_and_copies_an_experiment(scenario):
    first = min(e["id"] for e in step(scenario, "experiments")["value"]["results"])
    for strategy in ("restart", "resume", "copy"):
        done = step(scenario, strategy)
        assert done["status"] == 201
        experiments = f"api/v1/{scenario[1]}/{PROJECT}/experiments/"
        assert paths(done)[-1] == ("POST", f"{experiments}{first}/{strategy}/")
        assert done["value"]["is_clone"] is True  # (0.6.1 reads no original nor strategy)
    # The client's content (a dict's repr) overrides a declared param, an exponent float too.
    assert step(scenario, "restart")["value"]["params"]["num_steps"] == 1e-05
    assert step(scenario, "get_after_restart")["value"]["last_status"] == "running"


def check_client_deletes_group_with_204_then_404(scenario):
    assert step(scenario, "delete")["status"] == 204
    gone = scenario[0]["steps"]["get_after_delete"]
    assert not gone["ok"]
    assert gone["error_status"] == 404


CHECKS = [value for name, value in list(globals().items()) if name.startswith("check_")]


def test_client_drives_the_group_scenario(live_server, client_venv, tmp_path, subtests):
    """One scenario run (it is expensive), one subtest per behaviour."""
    scenario = run_scenario(live_server, client_venv, tmp_path)
    for check in CHECKS:
        with subtests.test(msg=check.__name__[len("check_") :]):
            check(scenario)


def test_client_with_a_bad_token_gets_401(live_server, client_venv, tmp_path):
    output = h.run_driver(
        client_venv,
        live_server,
        "not-a-token",
        "nobody",
        PROJECT,
        tmp_path,
        steps=[{"name": "user", "op": "user"}, {"name": "project_get", "op": "project_get"}],
    )
    for name in ("user", "project_get"):
        result = output["steps"][name]
        assert not result["ok"]
        assert result["error_status"] == 401
