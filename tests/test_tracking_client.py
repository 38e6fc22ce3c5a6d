"""The proof that experiments can report: the published polyaxon-client 0.6.1 tracking API and a
single urllib call, each in a process whose environment is exactly `experiment_env(...)`, and
`polyaxon upload` from polyaxon-cli 0.6.1, all against a live server."""

import importlib.util
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentMetric
from dashboard.runner.environment import experiment_env
from dashboard.services.experiment.credentials import issue_experiment_token
from dashboard.services.group import statuses
from dashboard.services.project.uploads import latest_repo
from dashboard.storage import paths
from tests.factories import grid_yml, make_group, make_project, make_user

_HELPERS_PATH = Path(__file__).resolve().parent / "client" / "conftest_helpers.py"
if "client_compat_helpers" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("client_compat_helpers", _HELPERS_PATH)
    sys.modules["client_compat_helpers"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["client_compat_helpers"])
h = sys.modules["client_compat_helpers"]

TIMEOUT = 120

TRACKING_SCRIPT = """\
from polyaxon_client.tracking import Experiment

experiment = Experiment()
for epoch in range(5):
    experiment.log_metrics(loss=1.0 / (epoch + 1), step=epoch)
print("params", experiment.get_params())
print("outputs", experiment.get_outputs_path())
"""

URLLIB_SCRIPT = """\
import json, os, urllib.request

request = urllib.request.Request(
    os.environ["POLYAXON_API_URL"] + "/metrics", method="POST",
    data=json.dumps({"values": {"accuracy": 0.75}}).encode(),
    headers={"Authorization": "token " + os.environ["POLYAXON_TOKEN"],
             "Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=30) as response:
    print(response.status)
"""


def _running_experiment(outputs_root, api_url):
    """alice/demo with a grid group whose first experiment runs; its environment."""
    alice = make_user("alice")
    project = make_project(alice, "demo")
    group = make_group(project, content=grid_yml(2))
    experiment = db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).first()
    for status in ("scheduled", "starting", "running"):
        statuses.set_experiment_status(experiment, status)
    key = issue_experiment_token(experiment)
    db.session.commit()
    outputs = paths.experiment_outputs_dir(outputs_root, "alice", "demo", group.id, experiment.id)
    env = experiment_env(
        experiment=experiment,
        group=group,
        project=project,
        key=key,
        api_url=api_url,
        outputs_dir=outputs,
        params=experiment.params,
    )
    return experiment, env


def _run(python, script, env, cwd):
    result = subprocess.run(
        [str(python), "-c", script],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, f"stdout: {result.stdout}\nstderr: {result.stderr}"
    return result


def _reports(experiment_id):
    db.session.rollback()  # end the test's transaction: the server wrote in another process
    db.session.expire_all()
    return db.session.scalars(
        select(ExperimentMetric.values)
        .where(ExperimentMetric.experiment_id == experiment_id)
        .order_by(ExperimentMetric.created_at, ExperimentMetric.id)
    ).all()


def test_experiment_env_names_the_experiment_for_the_client(app):
    experiment, env = _running_experiment(app.config["OUTPUTS_ROOT"], "http://127.0.0.1:5000/")
    group_name = f"alice.demo.{experiment.group_id}"

    assert env["POLYAXON_API_HTTP_HOST"] == "http://127.0.0.1:5000"
    assert env["POLYAXON_API_URL"] == (
        f"http://127.0.0.1:5000/api/v1/alice/demo/experiments/{experiment.id}"
    )
    assert env["POLYAXON_SECRET_USER_TOKEN"] == env["POLYAXON_TOKEN"]
    assert (env["POLYAXON_API_HOST"], env["POLYAXON_HTTP_PORT"]) == ("127.0.0.1", "5000")
    assert env["POLYAXON_IS_MANAGED"] == "true"
    assert env["POLYAXON_PARAMS"] == '{"x": 0}'
    assert f'"experiment_name": "{group_name}.{experiment.id}"' in env["POLYAXON_EXPERIMENT_INFO"]
    assert '"project_name": "alice.demo"' in env["POLYAXON_EXPERIMENT_INFO"]
    assert all(isinstance(value, str) for value in env.values())


def test_experiment_env_accepts_an_api_url_with_the_api_prefix(app):
    _, env = _running_experiment(app.config["OUTPUTS_ROOT"], "https://example.org/api/v1")

    assert env["POLYAXON_API_HTTP_HOST"] == "https://example.org"
    assert env["POLYAXON_API_WS_HOST"] == "wss://example.org"
    assert (env["POLYAXON_HTTP_PORT"], env["POLYAXON_USE_HTTPS"]) == ("443", "true")


def test_tracking_client_reports_every_epoch(live_server, client_venv, tmp_path):
    experiment, env = _running_experiment(live_server.env["OUTPUTS_ROOT"], live_server.url)
    python = h.client_executable(client_venv, "python")

    result = _run(python, TRACKING_SCRIPT, env, tmp_path)

    assert "params {'x': 0}" in result.stdout
    assert f"outputs {env['POLYAXON_RUN_OUTPUTS_PATH']}" in result.stdout
    assert _reports(experiment.id) == [
        {"loss": 1.0 / (epoch + 1), "step": epoch} for epoch in range(5)
    ]
    stored = db.session.get(Experiment, experiment.id)
    assert stored.last_metric == {"loss": 0.2, "step": 4}


def test_one_urllib_call_reports_with_only_the_environment(live_server, tmp_path):
    experiment, env = _running_experiment(live_server.env["OUTPUTS_ROOT"], live_server.url)

    result = _run(sys.executable, URLLIB_SCRIPT, env, tmp_path)

    assert result.stdout.strip() == "201"
    assert _reports(experiment.id) == [{"accuracy": 0.75}]
    assert db.session.get(Experiment, experiment.id).last_metric == {"accuracy": 0.75}


def test_polyaxon_upload_sends_the_code_that_is_unpacked(live_server, client_venv, tmp_path):
    alice = make_user("alice", h.PASSWORD)
    project = make_project(alice, "demo")
    cli = h.PolyaxonCli(client_venv, tmp_path / "home")
    cli.login(live_server, "alice")
    (cli.workdir / "train.py").write_text("print('training')\n")
    (cli.workdir / "pkg").mkdir()
    (cli.workdir / "pkg" / "util.py").write_text("X = 1\n")
    assert "Project was initialized" in cli.ok("init", "alice/demo")

    out = cli.ok("upload")

    assert "Files uploaded." in out
    db.session.rollback()
    db.session.expire_all()
    upload = latest_repo(project)
    folder = Path(upload.path)
    assert folder == paths.repo_dir(live_server.env["OUTPUTS_ROOT"], "alice", "demo", upload.id)
    assert (folder / "train.py").read_text() == "print('training')\n"
    assert (folder / "pkg" / "util.py").read_text() == "X = 1\n"


CREATE_METRIC_SCRIPT = """\
import sys
from polyaxon_client.client import PolyaxonClient

client = PolyaxonClient(host="127.0.0.1", http_port=int(sys.argv[1]), token=sys.argv[2],
                        use_https=False, reraise=True)
metric = client.experiment.create_metric("alice", "demo", int(sys.argv[3]),
                                         values={"loss": 0.25, "accuracy": 0.5})
print("created", metric["values"])
"""


def test_the_published_clients_create_metric_works(live_server, client_venv, tmp_path):
    from tests.factories import make_token

    experiment, _ = _running_experiment(live_server.env["OUTPUTS_ROOT"], live_server.url)
    key = make_token(_owner())
    python = h.client_executable(client_venv, "python")

    result = subprocess.run(
        [str(python), "-c", CREATE_METRIC_SCRIPT, str(live_server.port), key, str(experiment.id)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=tmp_path,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "created {'loss': 0.25, 'accuracy': 0.5}" in result.stdout
    assert _reports(experiment.id) == [{"loss": 0.25, "accuracy": 0.5}]


def _owner():
    from dashboard.models import User

    return db.session.scalars(select(User).where(User.username == "alice")).one()
