"""The published polyaxon-cli 0.6.1 manages an experiment group on a live server.

The command sequence (config, login, project create, run, then each `polyaxon group` command)
runs once, with its own HOME; each subtest asserts one command's exit code and output.
"""

import importlib.util
import re
import sys
from pathlib import Path

_HELPERS_PATH = Path(__file__).resolve().parent / "client" / "conftest_helpers.py"
if "client_compat_helpers" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("client_compat_helpers", _HELPERS_PATH)
    sys.modules["client_compat_helpers"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["client_compat_helpers"])
h = sys.modules["client_compat_helpers"]

PROJECT = "demo"
DESCRIPTION = "described-by-the-cli"


def run_session(live_server, client_venv, home):
    """Run the CLI command sequence as a new user; return every command's CompletedProcess."""
    username = h.make_user(live_server, "cli")
    cli = h.PolyaxonCli(client_venv, home)
    (cli.workdir / "polyaxonfile.yml").write_text(h.POLYAXONFILE.read_text())
    out = {"username": username, "results": {}}
    results = out["results"]
    results["config_set"] = cli(
        "config",
        "set",
        "--host=" + live_server.host,
        f"--port={live_server.port}",
        "--use_https=false",
    )
    results["login_wrong_password"] = cli("login", "-u", username, "-p", "wrong")
    results["login"] = cli("login", "-u", username, "-p", h.PASSWORD)
    results["whoami"] = cli("whoami")
    results["project_create"] = cli(
        "project", "create", f"--name={PROJECT}", "--description=made by the cli"
    )
    for name in ("config_set", "login", "project_create"):
        assert results[name].returncode == 0, (
            f"polyaxon {' '.join(results[name].args[1:])} exited {results[name].returncode}\n"
            f"stdout: {results[name].stdout}\nstderr: {results[name].stderr}"
        )
    results["run"] = cli("run", "-p", f"{username}/{PROJECT}", "-f", "polyaxonfile.yml")
    created = re.search(r"Experiment group (\d+) was created", results["run"].stdout)
    assert created, (
        f"`polyaxon run` did not report a group id\nstdout: "
        f"{results['run'].stdout}\nstderr: {results['run'].stderr}"
    )
    out["group_id"] = gid = int(created.group(1))
    group = ("group", "-p", f"{username}/{PROJECT}", "-g", str(gid))
    tensorboard = ("tensorboard", "-p", f"{username}/{PROJECT}", "-g", str(gid))
    results["get"] = cli(*group, "get")
    results["update"] = cli(*group, "update", f"--description={DESCRIPTION}")
    results["statuses"] = cli(*group, "statuses")
    # Grid and random experiments exist as soon as the group does (HPTUNING.md).
    results["experiments"] = cli(*group, "experiments")
    results["bookmark"] = cli(*group, "bookmark")
    results["bookmark_groups"] = cli("bookmark", "groups")
    results["unbookmark"] = cli(*group, "unbookmark")
    results["project_groups"] = cli("project", "-p", f"{username}/{PROJECT}", "groups")
    results["tensorboard_start"] = cli(*tensorboard, "start")
    results["tensorboard_start_again"] = cli(*tensorboard, "start")
    results["tensorboard_stop"] = cli(*tensorboard, "stop", "-y")
    results["stop"] = cli(*group, "stop", "-y")
    # Restart (with a file of declarations: the CLI sends its dict's repr), copy, resume.
    out["experiment_id"] = first = _first_experiment(gid)
    experiment = ("experiment", "-p", f"{username}/{PROJECT}", "-xp", str(first))
    (cli.workdir / "override.yml").write_text("declarations: {num_steps: 7}\n")
    results["xp_restart"] = cli(*experiment, "restart", "-f", "override.yml")
    results["xp_copy"] = cli(*experiment, "restart", "--copy")
    results["xp_resume"] = cli(*experiment, "resume")
    out["clones"] = _clones(gid)  # before the group is deleted
    results["delete_declined"] = cli(*group, "delete", input="n\n")
    results["get_after_decline"] = cli(*group, "get")
    results["delete"] = cli(*group, "delete", input="y\n")
    results["get_after_delete"] = cli(*group, "get")
    return out


def _first_experiment(group_id):
    from sqlalchemy import func, select

    from dashboard.extensions import db
    from dashboard.models import Experiment

    return db.session.scalar(select(func.min(Experiment.id)).where(Experiment.group_id == group_id))


def _clones(group_id):
    """{id: (original, strategy, params)} of the group's clones."""
    from sqlalchemy import select

    from dashboard.extensions import db
    from dashboard.models import Experiment

    db.session.expire_all()
    rows = db.session.scalars(
        select(Experiment).where(
            Experiment.group_id == group_id, Experiment.cloning_strategy.is_not(None)
        )
    )
    return {e.id: (e.original_experiment_id, e.cloning_strategy, e.params) for e in rows}


def ok(session, name):
    """stdout of a command that must have exited 0."""
    result = session["results"][name]
    assert result.returncode == 0, (
        f"polyaxon {' '.join(result.args[1:])} exited "
        f"{result.returncode}\nstdout: {result.stdout}\n"
        f"stderr: {result.stderr}"
    )
    return result.stdout


def table_value(stdout, key):
    """Value of `key` in the two-column table the CLI prints for one object."""
    found = re.search(rf"^{re.escape(key)}[ \t]+(\S.*?)\s*$", stdout, re.M)
    return found.group(1) if found else None


def check_cli_config_set_points_at_the_server(session):
    assert "Config was updated." in ok(session, "config_set")


def check_cli_login_with_a_wrong_password_exits_1(session):
    result = session["results"]["login_wrong_password"]
    assert result.returncode == 1
    assert "Could not login." in result.stdout


def check_cli_logs_in_with_username_and_password(session):
    assert "Login successful" in ok(session, "login")


def check_cli_whoami_shows_the_user(session):
    assert f"Username: {session['username']}, Email:" in ok(session, "whoami")


def check_cli_creates_a_project(session):
    assert f"Project `{PROJECT}` was created successfully." in ok(session, "project_create")


def check_cli_run_creates_a_group_from_the_polyaxonfile(session):
    out = ok(session, "run")
    assert "Creating an experiment group with the following definition:" in out
    assert f"Experiment group {session['group_id']} was created" in out


def check_cli_group_get_prints_the_group(session):
    out = ok(session, "get")
    assert "Experiment group info:" in out
    assert table_value(out, "id") == str(session["group_id"])
    unique_name = f"{session['username']}.{PROJECT}.{session['group_id']}"
    assert table_value(out, "unique_name") == unique_name
    assert table_value(out, "search_algorithm") == "random"
    assert table_value(out, "concurrency") == "5"


def check_cli_group_update_sets_the_description(session):
    out = ok(session, "update")
    assert "Experiment group updated." in out
    assert "Experiment group description:" in out
    assert DESCRIPTION in out


def check_cli_group_statuses_lists_created(session):
    out = ok(session, "statuses")
    assert f"Statuses for group `{session['group_id']}`." in out
    assert "Statuses:" in out
    assert re.search(r"^\s*\d+\s+.*\bcreated\b", out, re.M)


def check_cli_group_experiments_lists_ten(session):
    out = ok(session, "experiments")
    assert f"Experiments for experiment group `{session['group_id']}`." in out
    assert table_value(out, "count") == "10"
    prefix = f"{session['username']}.{PROJECT}.{session['group_id']}."
    assert len(re.findall(rf"^\s*\d+\s+{re.escape(prefix)}\d+\s", out, re.M)) == 10


def check_cli_group_bookmark(session):
    assert "Experiments group is bookmarked." in ok(session, "bookmark")


def check_cli_bookmark_groups_lists_the_bookmarked_group(session):
    out = ok(session, "bookmark_groups")
    assert f"Bookmarked experiment groups for user `{session['username']}`." in out
    assert f"{session['username']}.{PROJECT}.{session['group_id']}" in out


def check_cli_group_unbookmark(session):
    assert "Experiments group is unbookmarked." in ok(session, "unbookmark")


def check_cli_project_groups_lists_the_group(session):
    out = ok(session, "project_groups")
    assert f"Experiment groups for project `{session['username']}/{PROJECT}`." in out
    assert f"{session['username']}.{PROJECT}.{session['group_id']}" in out


def check_cli_tensorboard_start_then_already_running(session):
    url = f"/tensorboard/{session['username']}/{PROJECT}/groups/{session['group_id']}/"
    first = ok(session, "tensorboard_start")
    assert f"Tensorboard is being deployed for group `{session['group_id']}`" in first
    assert url in first
    again = ok(session, "tensorboard_start_again")
    assert f"A tensorboard for this group `{session['group_id']}` is already running on:" in again
    assert url in again


def check_cli_tensorboard_stop(session):
    assert "Tensorboard is being deleted" in ok(session, "tensorboard_stop")


def check_cli_group_stop(session):
    assert "Experiments in group are being stopped." in ok(session, "stop")


def check_cli_experiment_restart_copy_and_resume(session):
    said = {
        "restart": ("xp_restart", "restarted"),
        "copy": ("xp_copy", "copied"),
        "resume": ("xp_resume", "resumed"),
    }
    first = session["experiment_id"]
    for strategy, (name, verb) in said.items():
        found = re.search(rf"Experiment was {verb} with id (\d+)", ok(session, name))
        assert found, session["results"][name].stdout
        original, done, params = session["clones"][int(found.group(1))]
        assert (original, done) == (first, strategy)
        # The file's declarations (sent as a dict's repr) override the restart's params.
        assert params["num_steps"] == (7 if strategy == "restart" else 500)


def check_cli_group_delete_declined_keeps_the_group(session):
    assert "Existing without deleting experiment group." in ok(session, "delete_declined")
    assert "Experiment group info:" in ok(session, "get_after_decline")


def check_cli_group_delete_confirmed_deletes_it(session):
    # The CLI prints this (sic) only when the server answers exactly 204.
    out = ok(session, "delete")
    assert f"Experiment group `{session['group_id']}` was delete successfully" in out
    gone = session["results"]["get_after_delete"]
    assert gone.returncode == 1
    assert f"Could not get experiment group `{session['group_id']}`." in gone.stdout
    assert "404 on " in gone.stdout


CHECKS = [value for name, value in list(globals().items()) if name.startswith("check_")]


def test_cli_manages_a_group(live_server, client_venv, tmp_path, subtests):
    """One command sequence (it is expensive), one subtest per command's behaviour."""
    session = run_session(live_server, client_venv, tmp_path)
    for check in CHECKS:
        with subtests.test(msg=check.__name__[len("check_") :]):
            check(session)
