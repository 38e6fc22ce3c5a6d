"""One experiment: detail, update, heartbeat, stop, restart/resume/copy, statuses, metrics, logs,
notes.

Callable by users and, for the routes declared with experiment_key=True, by the experiment
itself with its own credentials (g.experiment).
"""

from flask import g, request

from dashboard.api import route, serialize
from dashboard.api.helpers import (
    dump,
    empty,
    held_project,
    page_args,
    page_response,
    parse,
    parse_one_or_many,
)
from dashboard.api.notes import SAVE_ERRORS, notes_out
from dashboard.api.operations import JSON, PAGE, Paged
from dashboard.api.schemas.experiments import (
    ExperimentCloneIn,
    ExperimentOut,
    ExperimentStatusIn,
    ExperimentStatusOut,
    ExperimentUpdateIn,
)
from dashboard.api.schemas.metrics import MetricIn, MetricListIn, MetricListOut, MetricOut
from dashboard.api.schemas.notes import NotesIn, NotesOut
from dashboard.services.experiment import experiment_actions, metrics, restarts
from dashboard.services.experiment.credentials import experiment_access
from dashboard.services.group import notes

EXPERIMENT = "/<username>/<project_name>/experiments/<int:experiment_id>"


def _access(username, project_name, experiment_id, action="read"):
    return experiment_access(
        username,
        project_name,
        experiment_id,
        actor=g.actor,
        caller=g.experiment,
        action=action,
        project=held_project(username, project_name),
    )


def _experiment_out(access):
    return serialize.experiment(access.experiment, access.group, access.project)


@route(f"{EXPERIMENT}/", ["GET"], out=ExperimentOut, experiment_key=True)
def get_experiment(username, project_name, experiment_id):
    """The experiment row."""
    return dump(_experiment_out(_access(username, project_name, experiment_id)))


@route(
    f"{EXPERIMENT}/",
    ["PATCH"],
    out=ExperimentOut,
    body=ExperimentUpdateIn,
    experiment_key=True,
)
def update_experiment(username, project_name, experiment_id):
    """Update name, description, tags (merge); the tracking client's other fields are ignored."""
    access = _access(username, project_name, experiment_id, "edit")
    body = parse(ExperimentUpdateIn)
    fields = body.model_dump(include=body.model_fields_set)
    experiment_actions.update_experiment(access, fields=fields)
    return dump(_experiment_out(access))


@route(f"{EXPERIMENT}/_heartbeat/", ["POST"], out=None, experiment_key=True)
def experiment_heartbeat(username, project_name, experiment_id):
    """The tracking client's liveness ping."""
    experiment_actions.heartbeat(_access(username, project_name, experiment_id, "report_metrics"))
    return empty(200)


@route(f"{EXPERIMENT}/stop/", ["POST"], out=None)
def stop_experiment(username, project_name, experiment_id):
    """Stop the experiment (pending: at once; running: the worker kills it)."""
    experiment_actions.stop_experiment(_access(username, project_name, experiment_id, "stop"))
    return empty(200)


def _clone(username, project_name, experiment_id, strategy):
    access = _access(username, project_name, experiment_id, "clone_experiment")
    body = parse(ExperimentCloneIn)
    clone = restarts.clone_experiment(
        access, strategy, content=body.content, update_code=body.update_code
    )
    return dump(serialize.experiment(clone, access.group, access.project), 201)


@route(f"{EXPERIMENT}/restart/", ["POST"], status=201, out=ExperimentOut, body=ExperimentCloneIn)
def restart_experiment(username, project_name, experiment_id):
    """A new experiment of the group with the same params (or content's), fresh outputs."""
    return _clone(username, project_name, experiment_id, "restart")


@route(f"{EXPERIMENT}/resume/", ["POST"], status=201, out=ExperimentOut, body=ExperimentCloneIn)
def resume_experiment(username, project_name, experiment_id):
    """A new experiment of the group with the same params, writing into the original's
    outputs folder."""
    return _clone(username, project_name, experiment_id, "resume")


@route(f"{EXPERIMENT}/copy/", ["POST"], status=201, out=ExperimentOut, body=ExperimentCloneIn)
def copy_experiment(username, project_name, experiment_id):
    """A new experiment of the group with the same params, its outputs starting as a copy of
    the original's."""
    return _clone(username, project_name, experiment_id, "copy")


@route(
    f"{EXPERIMENT}/statuses/",
    ["GET"],
    out=Paged(ExperimentStatusOut),
    query=PAGE,
    experiment_key=True,
)
def list_experiment_statuses(username, project_name, experiment_id):
    """The experiment's status history, oldest first."""
    access = _access(username, project_name, experiment_id)
    page = experiment_actions.list_statuses(access, **page_args())
    return page_response(
        page, lambda row: serialize.experiment_status(row[0]).model_dump(mode="json")
    )


@route(
    f"{EXPERIMENT}/statuses/",
    ["POST"],
    status=201,
    out=ExperimentStatusOut,
    body=ExperimentStatusIn,
    experiment_key=True,
)
def create_experiment_status(username, project_name, experiment_id):
    """Append a status (the experiment itself, or admins)."""
    access = _access(username, project_name, experiment_id, "post_status")
    body = parse(ExperimentStatusIn)
    row = experiment_actions.post_status(
        access, status=body.status, message=body.message, traceback=body.traceback
    )
    return dump(serialize.experiment_status(row), 201)


@route(f"{EXPERIMENT}/metrics/", ["GET"], out=Paged(MetricOut), query=PAGE, experiment_key=True)
def list_metrics(username, project_name, experiment_id):
    """The experiment's metric reports, oldest first."""
    access = _access(username, project_name, experiment_id)
    page = metrics.list_metrics(access, **page_args())
    return page_response(
        page, lambda row: serialize.metric(row[0], access.experiment).model_dump(mode="json")
    )


@route(
    f"{EXPERIMENT}/metrics/",
    ["POST"],
    status=201,
    out={JSON: (MetricOut, MetricListOut)},
    body=(MetricIn, MetricListIn),
    experiment_key=True,
)
def create_metrics(username, project_name, experiment_id):
    """Report metrics: one {"values", "created_at"?} object, or a list of them (201)."""
    access = _access(username, project_name, experiment_id, "report_metrics")
    reports, batch = parse_one_or_many(MetricIn, MetricListIn)
    rows = metrics.report_metrics(access, reports)
    if batch:
        return dump(serialize.metrics(rows, access.experiment), 201)
    return dump(serialize.metric(rows[0], access.experiment), 201)


@route(f"{EXPERIMENT}/logs/", ["GET"], out={"text/plain": str}, query=("tail",))
def experiment_logs(username, project_name, experiment_id):
    """The experiment's output as text: the last ?tail=N lines, else all (up to a cap)."""
    access = _access(username, project_name, experiment_id)
    text = experiment_actions.read_log(access, tail=request.args.get("tail"))
    return text, 200, {"Content-Type": "text/plain; charset=utf-8"}


@route(f"{EXPERIMENT}/notes/", ["GET"], out=NotesOut)
def get_experiment_notes(username, project_name, experiment_id):
    """The experiment's notes: Markdown, its sanitised HTML, version (0: none yet)."""
    found = notes.experiment_notes(_access(username, project_name, experiment_id))
    return dump(notes_out(found))


@route(f"{EXPERIMENT}/notes/", ["PUT"], out=NotesOut, body=NotesIn, **SAVE_ERRORS)
def put_experiment_notes(username, project_name, experiment_id):
    """Save the experiment's notes over the version last read (409 with the newer notes if
    stale); members and admins, never the experiment's own key."""
    access = _access(username, project_name, experiment_id, "write_notes")
    body = parse(NotesIn)
    saved = notes.save_experiment_notes(access, markdown=body.markdown, version=body.version)
    return dump(notes_out(saved))
