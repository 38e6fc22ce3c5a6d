"""Celery workers report here with the experiment's own key: it started, it is still running."""

from flask import g

from dashboard.api import route
from dashboard.api.experiment_routes import EXPERIMENT
from dashboard.api.helpers import dump, empty, held_project, parse
from dashboard.api.schemas.experiments import RunnerHeartbeatOut, RunnerReportIn
from dashboard.services.experiment.credentials import experiment_access
from dashboard.services.run import runner_reports


def _access(username, project_name, experiment_id):
    return experiment_access(
        username,
        project_name,
        experiment_id,
        actor=g.actor,
        caller=g.experiment,
        action="post_status",
        project=held_project(username, project_name),
    )


@route(
    f"{EXPERIMENT}/_runner/start/",
    ["POST"],
    out=None,
    body=RunnerReportIn,
    errors=(409,),
    experiment_key=True,
)
def runner_start(username, project_name, experiment_id):
    """A worker took the experiment (409 if it was stopped, finished or taken meanwhile)."""
    access = _access(username, project_name, experiment_id)
    body = parse(RunnerReportIn)
    runner_reports.start(access, worker=body.worker, host=body.host)
    return empty(200)


@route(
    f"{EXPERIMENT}/_runner/heartbeat/",
    ["POST"],
    out=RunnerHeartbeatOut,
    body=RunnerReportIn,
    errors=(409,),
    experiment_key=True,
)
def runner_heartbeat(username, project_name, experiment_id):
    """The worker still runs the experiment; the answer says whether to stop it."""
    access = _access(username, project_name, experiment_id)
    body = parse(RunnerReportIn)
    stop = runner_reports.heartbeat(access, worker=body.worker, host=body.host, pid=body.pid)
    return dump(RunnerHeartbeatOut(stop=stop))
