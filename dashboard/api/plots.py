"""The data behind a group's plots, and the list of an experiment's output files."""

import orjson
from flask import current_app, g, jsonify, request

from dashboard.api import route
from dashboard.api.helpers import access, dump
from dashboard.api.schemas.experiments import OutputListOut
from dashboard.api.schemas.plots import PlotNamesOut, PlotOut
from dashboard.services.experiment import experiment_actions
from dashboard.services.experiment.credentials import experiment_access
from dashboard.services.plots import plots

GROUP = "/<username>/<project_name>/groups/<int:group_id>"
EXPERIMENT = "/<username>/<project_name>/experiments/<int:experiment_id>"


@route(f"{GROUP}/plots/", ["GET"], out=PlotNamesOut)
def list_group_plots(username, project_name, group_id):
    """The names of the plots a group has (each at plots/<name>/)."""
    plots.plot_names(access(username, project_name), group_id)
    return dump(PlotNamesOut(plots=list(plots.PLOTS)))


def _plot_json(data):
    # orjson writes a plot of 2,000 points in about a millisecond, ten times faster than json;
    # an integer past 64 bits (a param could hold one) it refuses, and json writes.
    try:
        body = orjson.dumps(data)
    except orjson.JSONEncodeError:
        return jsonify(data)
    return current_app.response_class(body, mimetype="application/json")


def _plot_view(name):
    def view(username, project_name, group_id):
        # PlotOut (schemas/plots.py) declares this body; it is sent as built (no validation
        # pass over the points of a 2,000-experiment sample).
        data = plots.plot_data(
            access(username, project_name),
            group_id,
            name,
            metric=request.args.get("metric") or None,
            x=request.args.get("x") or None,
            y=request.args.get("y") or None,
        )
        return _plot_json(data)

    view.__name__ = f"group_plot_{name}"
    view.__doc__ = f"The data of the group's {name} plot (?metric= to choose the metric)." + (
        " ?x= and ?y= choose its two params." if name == "contour" else ""
    )
    return view


for _name in plots.PLOTS:
    _query = ("metric", "x", "y") if _name == "contour" else ("metric",)
    route(f"{GROUP}/plots/{_name}/", ["GET"], out=PlotOut, query=_query)(_plot_view(_name))


@route(f"{EXPERIMENT}/outputs/", ["GET"], out=OutputListOut)
def experiment_outputs(username, project_name, experiment_id):
    """The files under the experiment's outputs folder: [{path, size}]."""
    found = experiment_access(
        username, project_name, experiment_id, actor=g.actor, caller=g.experiment
    )
    return dump(OutputListOut.model_validate(experiment_actions.outputs(found)))
