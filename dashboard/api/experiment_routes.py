"""One experiment: detail, update, heartbeat, stop, statuses, metrics, logs.

Callable by users and, for the routes in EXPERIMENT_ENDPOINTS, by the experiment itself with
its own credentials (g.experiment).
"""

from flask import g, request

from dashboard.api import route, schemas, serialize
from dashboard.api.helpers import (
    dump,
    empty,
    held_project,
    page_args,
    page_response,
    parse,
    parse_one_or_many,
)
from dashboard.services import experiment_actions, metrics
from dashboard.services.credentials import experiment_access

EXPERIMENT = "/<username>/<project_name>/experiments/<int:experiment_id>"


def _access(username, project_name, experiment_id, action="read"):
    return experiment_access(username, project_name, experiment_id, actor=g.actor,
                             caller=g.experiment, action=action,
                             project=held_project(username, project_name))


def _experiment_out(access):
    return serialize.experiment(access.experiment, access.group, access.project)


@route(f"{EXPERIMENT}/", ["GET"])
def get_experiment(username, project_name, experiment_id):
    """The experiment row."""
    return dump(_experiment_out(_access(username, project_name, experiment_id)))


@route(f"{EXPERIMENT}/", ["PATCH"])
def update_experiment(username, project_name, experiment_id):
    """Update name, description, tags (merge); the tracking client's other fields are ignored."""
    access = _access(username, project_name, experiment_id, "edit")
    body = parse(schemas.ExperimentUpdateIn)
    fields = body.model_dump(include=body.model_fields_set)
    experiment_actions.update_experiment(access, fields=fields)
    return dump(_experiment_out(access))


@route(f"{EXPERIMENT}/_heartbeat/", ["POST"])
def experiment_heartbeat(username, project_name, experiment_id):
    """The tracking client's liveness ping."""
    experiment_actions.heartbeat(_access(username, project_name, experiment_id, "report_metrics"))
    return empty(200)


@route(f"{EXPERIMENT}/stop/", ["POST"])
def stop_experiment(username, project_name, experiment_id):
    """Stop the experiment (pending: at once; running: the worker kills it)."""
    experiment_actions.stop_experiment(_access(username, project_name, experiment_id, "stop"))
    return empty(200)


@route(f"{EXPERIMENT}/statuses/", ["GET"])
def list_experiment_statuses(username, project_name, experiment_id):
    """The experiment's status history, oldest first."""
    access = _access(username, project_name, experiment_id)
    page = experiment_actions.list_statuses(access, **page_args())
    return page_response(
        page, lambda row: serialize.experiment_status(row[0]).model_dump(mode="json")
    )


@route(f"{EXPERIMENT}/statuses/", ["POST"])
def create_experiment_status(username, project_name, experiment_id):
    """Append a status (the experiment itself, or admins)."""
    access = _access(username, project_name, experiment_id, "post_status")
    body = parse(schemas.ExperimentStatusIn)
    row = experiment_actions.post_status(access, status=body.status, message=body.message,
                                         traceback=body.traceback)
    return dump(serialize.experiment_status(row), 201)


@route(f"{EXPERIMENT}/metrics/", ["GET"])
def list_metrics(username, project_name, experiment_id):
    """The experiment's metric reports, oldest first."""
    access = _access(username, project_name, experiment_id)
    page = metrics.list_metrics(access, **page_args())
    return page_response(
        page, lambda row: serialize.metric(row[0], access.experiment).model_dump(mode="json")
    )


@route(f"{EXPERIMENT}/metrics/", ["POST"])
def create_metrics(username, project_name, experiment_id):
    """Report metrics: one {"values", "created_at"?} object, or a list of them (201)."""
    access = _access(username, project_name, experiment_id, "report_metrics")
    reports, batch = parse_one_or_many(schemas.MetricIn, schemas.MetricListIn)
    rows = metrics.report_metrics(access, reports)
    if batch:
        return dump(serialize.metrics(rows, access.experiment), 201)
    return dump(serialize.metric(rows[0], access.experiment), 201)


@route(f"{EXPERIMENT}/logs/", ["GET"])
def experiment_logs(username, project_name, experiment_id):
    """The experiment's output as text: the last ?tail=N lines, else all (up to a cap)."""
    access = _access(username, project_name, experiment_id)
    text = experiment_actions.read_log(access, tail=request.args.get("tail"))
    return text, 200, {"Content-Type": "text/plain; charset=utf-8"}
