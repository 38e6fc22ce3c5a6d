"""Experiments of a group."""

from flask import Response, request, stream_with_context

from dashboard.api import route, serialize
from dashboard.api.helpers import access, page_args, page_response
from dashboard.api.operations import EXPORT, JSON, Paged
from dashboard.api.schemas.experiments import ExperimentOut, ExportOut
from dashboard.errors import NotFound, ValidationError
from dashboard.ids import MAX_ID
from dashboard.services.experiment import experiment_table, experiments

EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
# A page of rows, or with ?format= every matching row as JSON or CSV.
EXPERIMENTS_OUT = {JSON: (Paged(ExperimentOut), ExportOut), "text/csv": str}


def _export(project, group_id, fmt):
    """Every matching experiment (limit and offset ignored) as CSV or a JSON array, streamed."""
    lines, filename = experiment_table.export(
        project, group_id, experiment_table.parse_state(request.args), fmt
    )
    return Response(
        stream_with_context(lines),
        content_type=EXPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _experiments_page(username, project_name, group_id):
    project = access(username, project_name)
    fmt = request.args.get("format")
    if fmt is not None:
        return _export(project, group_id, fmt)
    group, page = experiments.list_experiments(
        project,
        group_id,
        query=request.args.get("query"),
        sort=request.args.get("sort"),
        **page_args(),
    )
    return page_response(
        page,
        lambda row: serialize.experiment(row[0], group, project.project).model_dump(mode="json"),
    )


@route(
    "/<username>/<project_name>/experiments/",
    ["GET"],
    out=EXPERIMENTS_OUT,
    query=(*EXPORT, "group"),
)
def list_project_experiments(username, project_name):
    """Experiments of the group named by ?group= (the client's URL)."""
    raw = request.args.get("group")
    if raw is None:
        raise ValidationError(
            "Pass the group: ?group=<id>.", fields={"group": ["This field is required."]}
        )
    try:
        group_id = int(raw)
    except ValueError:
        raise ValidationError(f"group must be an integer id, not '{raw}'.") from None
    if not 0 < group_id <= MAX_ID:  # past the id column's range: no such group (as for paths)
        raise NotFound()
    return _experiments_page(username, project_name, group_id)


@route(
    "/<username>/<project_name>/groups/<int:group_id>/experiments/",
    ["GET"],
    out=EXPERIMENTS_OUT,
    query=EXPORT,
)
def list_group_experiments(username, project_name, group_id):
    """Experiments of the group."""
    return _experiments_page(username, project_name, group_id)
