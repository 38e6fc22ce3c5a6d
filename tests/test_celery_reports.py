"""What a Celery worker reports (start, heartbeat) and the scheduler's pickup check, through the
API alone: no Redis, no worker processes."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.models import ExperimentStatus
from dashboard.models.types import utcnow
from dashboard.services.run import runs
from tests.factories import make_group


@pytest.fixture
def waiting(app):
    """An experiment the scheduler sent to a worker: `starting`, with its own key."""
    from dashboard.models import Experiment
    from dashboard.services.experiment import credentials
    from tests.factories import make_project, make_user

    project = make_project(make_user("alice"), "demo")
    group = make_group(project)
    experiment = db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).first()
    experiment.status = "starting"
    key = credentials.issue_experiment_token(experiment)
    db.session.commit()
    url = f"/api/v1/alice/demo/experiments/{experiment.id}/_runner"
    return experiment, url, {"Authorization": f"token {key}"}


ME = {"worker": "alpha@host", "host": "host"}


def test_a_worker_starts_a_waiting_experiment_once(client, waiting):
    experiment, url, headers = waiting
    assert client.post(f"{url}/start/", json=ME, headers=headers).status_code == 200
    db.session.refresh(experiment)
    assert (experiment.status, experiment.worker) == ("running", "alpha@host")
    again = client.post(f"{url}/start/", json={**ME, "worker": "beta@host"}, headers=headers)
    assert again.status_code == 409
    assert again.get_json() == {"detail": "The experiment is running, not waiting for a worker."}
    db.session.refresh(experiment)
    assert experiment.worker == "alpha@host"


def test_heartbeat_records_the_pid_and_answers_a_stop_request(client, waiting):
    from dashboard.models import Worker
    from dashboard.models.types import utcnow

    experiment, url, headers = waiting
    client.post(f"{url}/start/", json=ME, headers=headers)
    beat = client.post(f"{url}/heartbeat/", json={**ME, "pid": 4321}, headers=headers)
    assert (beat.status_code, beat.get_json()) == (200, {"stop": False})
    assert db.session.get(Worker, "alpha@host").pid == 0  # judged by heartbeats alone
    db.session.refresh(experiment)
    assert experiment.pid == 4321
    experiment.stop_requested_at = utcnow()
    db.session.commit()
    beat = client.post(f"{url}/heartbeat/", json=ME, headers=headers)
    assert beat.get_json() == {"stop": True}
    other = client.post(f"{url}/heartbeat/", json={**ME, "worker": "beta@host"}, headers=headers)
    assert other.status_code == 409


def test_a_stopped_experiment_is_not_started(client, waiting):
    from dashboard.models.types import utcnow

    experiment, url, headers = waiting
    experiment.stop_requested_at = utcnow()
    db.session.commit()
    assert client.post(f"{url}/start/", json=ME, headers=headers).status_code == 409
    db.session.refresh(experiment)
    assert (experiment.status, experiment.worker) == ("starting", None)


SCHEDULER = "celery-scheduler:experiments"


def sent_ago(experiment, seconds, worker=SCHEDULER):
    """The experiment as if last updated (sent, or started) `seconds` ago."""
    from dashboard.models import Experiment

    db.session.execute(
        update(Experiment)
        .where(Experiment.id == experiment.id)
        .values(worker=worker, updated_at=utcnow() - timedelta(seconds=seconds))
    )
    db.session.commit()
    db.session.refresh(experiment)


def test_the_pickup_check_fails_an_overdue_experiment_and_refuses_its_late_start(client, waiting):
    experiment, url, headers = waiting
    sent_ago(experiment, 61)
    assert runs.unpicked_experiments(SCHEDULER, timeout=60, message="Lost.") == [experiment.id]
    db.session.refresh(experiment)
    assert experiment.status == "failed" and experiment.finished_at is not None
    rows = db.session.scalars(
        select(ExperimentStatus).where(ExperimentStatus.experiment_id == experiment.id)
    ).all()
    assert [(row.status, row.message) for row in rows][-1:] == [("failed", "Lost.")]
    assert client.post(f"{url}/start/", json=ME, headers=headers).status_code == 401


def test_the_pickup_check_spares_an_experiment_sent_within_the_timeout(waiting):
    experiment, _, _ = waiting
    sent_ago(experiment, 59)
    assert runs.unpicked_experiments(SCHEDULER, timeout=60, message="Lost.") == []
    db.session.refresh(experiment)
    assert experiment.status == "starting"


def test_the_pickup_check_spares_an_experiment_a_worker_started(client, waiting):
    experiment, url, headers = waiting
    sent_ago(experiment, 61)
    assert client.post(f"{url}/start/", json=ME, headers=headers).status_code == 200
    sent_ago(experiment, 61, worker=ME["worker"])
    assert runs.unpicked_experiments(SCHEDULER, timeout=60, message="Lost.") == []
    db.session.refresh(experiment)
    assert (experiment.status, experiment.worker) == ("running", ME["worker"])


@pytest.mark.parametrize(
    "body, field",
    [
        ({"host": "h"}, "worker"),
        ({"worker": "", "host": "h"}, "worker"),
        ({"worker": "w", "host": "h", "pid": 0}, "pid"),
        ({"worker": "w", "host": "h", "pid": "12"}, "pid"),
    ],
)
def test_bad_reports_get_field_errors_and_change_nothing(client, waiting, body, field):
    experiment, url, headers = waiting
    response = client.post(f"{url}/start/", json=body, headers=headers)
    assert response.status_code == 400
    assert field in response.get_json()
    db.session.refresh(experiment)
    assert (experiment.status, experiment.worker) == ("starting", None)
