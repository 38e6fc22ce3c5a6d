"""Exploring a group's results: column choice, the objective, CSV / JSON downloads."""

from flask import Response, flash, redirect, request, stream_with_context, url_for

from dashboard.services.experiment import experiment_table
from dashboard.services.group import objective as objective_service
from dashboard.ui import is_htmx, route
from dashboard.ui.groups import GROUP, group_access, state_args, table_response
from dashboard.ui.pages import group as group_pages

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _state():
    """The table state a form posted (its hidden fields), else the URL's."""
    return experiment_table.parse_state(request.form or request.args)


def _back(owner, project, group_id, state, message):
    flash(message, "success")
    return redirect(
        url_for(
            "ui.group_page", owner=owner, project=project, group_id=group_id, **state_args(state)
        )
    )


@route(f"{GROUP}/columns", methods=("POST",))
def group_columns(owner, project, group_id):
    """Save the user's columns for the group and show the table with them (URL updated)."""
    access = group_access(owner, project)
    keys = experiment_table.save_columns(access, group_id, request.form.getlist("columns"))
    state = _state().but(columns=keys)
    if not is_htmx():
        return _back(owner, project, group_id, state, "Columns saved.")
    page = group_pages.group_experiments(access, group_id, state)
    return table_response(owner, project, page, push=True)


@route(f"{GROUP}/objective", methods=("POST",))
def group_objective(owner, project, group_id):
    """Choose the metric to optimise and its direction; the best box and table follow."""
    access = group_access(owner, project)
    objective_service.set_objective(
        access, group_id, request.form.get("metric"), request.form.get("optimization")
    )
    state = _state()
    if not is_htmx():
        return _back(owner, project, group_id, state, "Objective saved.")
    page = group_pages.group_experiments(access, group_id, state)
    return table_response(owner, project, page, "_best")


def _download(owner, project, group_id, fmt):
    access = group_access(owner, project)
    lines, filename = experiment_table.export(access, group_id, _state(), fmt)
    return Response(
        stream_with_context(lines),
        content_type=CONTENT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@route(f"{GROUP}/experiments.csv")
def group_export_csv(owner, project, group_id):
    """The table's view (filter, sort, columns; every page) as CSV, streamed."""
    return _download(owner, project, group_id, "csv")


@route(f"{GROUP}/experiments.json")
def group_export_json(owner, project, group_id):
    """The table's view (filter, sort, columns; every page) as a JSON array, streamed."""
    return _download(owner, project, group_id, "json")
