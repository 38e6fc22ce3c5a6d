"""The demo project: seed-demo registers demo/ as its code and creates three groups it can run."""

import os
import subprocess
import sys

from sqlalchemy import select

from dashboard.demo import ADMIN, DEMO_DIR, DEMO_FILE, DEMO_PROJECT
from dashboard.extensions import db
from dashboard.models import ExperimentGroup, ExperimentMetric, Project, RepoUpload, User
from dashboard.services.group import groups
from dashboard.services.group.groups import stop_group
from dashboard.services.project.access import project_access
from dashboard.storage import paths
from tests.support.runs import experiments_of, group_status, wait_for


def seed(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result.output


def test_seed_demo_twice_creates_the_upload_and_three_groups_once(app):
    seed(app)
    seed(app)
    assert len(db.session.scalars(select(RepoUpload)).all()) == 1
    rows = db.session.scalars(select(ExperimentGroup).order_by(ExperimentGroup.id)).all()
    assert [(g.name, g.search_algorithm) for g in rows] == [
        (None, "random"),
        ("hyperband-demo", "hyperband"),
        ("bo-demo", "bo"),
    ]
    project = db.session.scalars(select(Project).where(Project.name == DEMO_PROJECT)).one()
    assert {g.project_id for g in rows} == {project.id}


def test_demo_upload_is_a_copy_of_demo_in_the_repos_folder(app):
    seed(app)
    upload = db.session.scalars(select(RepoUpload)).one()
    folder = paths.repo_dir(app.config, ADMIN, DEMO_PROJECT, upload.id)
    assert upload.path == str(folder)
    assert (folder / "model.py").read_text() == (DEMO_DIR / "model.py").read_text()
    assert (folder / "polyaxonfile.yml").is_file()


def test_model_runs_by_hand_without_the_dashboard(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYAXON_")}
    result = subprocess.run(
        [
            sys.executable,
            str(DEMO_DIR / "model.py"),
            "--num_steps=50",
            "--num_epochs=2",
            "--learning_rate=0.05",
            "--activation=sigmoid",
            "--dropout=0.3",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "epoch 2/2: loss=" in result.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written without an outputs path


def test_demo_group_runs_for_real_with_metrics_per_epoch_and_tensorboard(
    app,
    live_server,
    workers,
):
    seed(app)
    admin = db.session.scalars(select(User).where(User.username == ADMIN)).one()
    access = project_access(ADMIN, DEMO_PROJECT, actor=admin)
    for seeded in db.session.scalars(select(ExperimentGroup.id)).all():
        stop_group(access, seeded)  # only the small group below is for this test to run
    content = DEMO_FILE.read_text()
    assert "n_experiments: 10}" in content and "num_epochs: 1}" in content
    small = content.replace("n_experiments: 10}", "n_experiments: 2}").replace(
        "num_epochs: 1}", "num_epochs: 2}"
    )
    group = groups.create_group(access, content=small)
    workers()
    wait_for(lambda: group_status(group.id) in ("succeeded", "failed"), "the demo group to end")
    assert group_status(group.id) == "succeeded"
    rows = experiments_of(group.id)
    assert [e.status for e in rows] == ["succeeded", "succeeded"]
    for experiment in rows:
        reports = db.session.scalars(
            select(ExperimentMetric.values)
            .where(ExperimentMetric.experiment_id == experiment.id)
            .order_by(ExperimentMetric.id)
        ).all()
        assert [r["epoch"] for r in reports] == [1, 2]
        assert all(set(r) == {"loss", "accuracy", "epoch"} for r in reports)
        assert all(0 <= r["accuracy"] <= 1 and r["loss"] > 0 for r in reports)
        outputs = paths.experiment_outputs_dir(
            live_server.env["OUTPUTS_ROOT"], ADMIN, DEMO_PROJECT, group.id, experiment.id
        )
        assert scalar_steps(outputs) == {"loss": [1, 2], "accuracy": [1, 2]}


def scalar_steps(folder):
    """The steps of every scalar in the folder's TensorBoard event files, by tag."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    steps = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                steps.setdefault(value.tag, []).append(event.step)
    return steps
