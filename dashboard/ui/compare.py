"""The compare page: experiments (params, metrics, charts) or groups (specs, counts, best)."""

from flask import render_template, request, url_for

from dashboard.errors import ValidationError
from dashboard.ui import route
from dashboard.ui.charts import Marks, report_lines, swatches
from dashboard.ui.groups import group_access
from dashboard.ui.pages import compare as comparisons


@route("/<owner>/<project>/compare")
def compare_page(owner, project):
    """Compare ?experiments=1,2,3 or ?groups=4,5 of the project side by side."""
    access = group_access(owner, project)
    ctx = {
        "owner": owner,
        "project_name": project,
        "project_url": url_for("ui.project", owner=owner, project=project),
    }
    if request.args.get("experiments") is not None:
        ids = comparisons.parse_ids(request.args["experiments"], "experiments")
        result = comparisons.compare_experiments(access, ids)
        labels = [f"Experiment {e.id}" for e in result.experiments]
        link = Marks(_experiment_urls(owner, project, result.experiments))
        charts = [
            (
                name,
                report_lines(
                    name,
                    [
                        (label, values, experiment.id)
                        for label, experiment, (_, values) in zip(
                            labels, result.experiments, series, strict=True
                        )
                    ],
                    link,
                ),
            )
            for name, series in result.histories.items()
        ]
        return render_template(
            "compare/experiments.html",
            result=result,
            charts=charts,
            legend=swatches(labels),
            headers=labels,
            allowed=access.allowed,
            **ctx,
        )
    if request.args.get("groups") is not None:
        ids = comparisons.parse_ids(request.args["groups"], "groups")
        result = comparisons.compare_groups(access, ids)
        headers = [f"Group {g.id}" for g in result.groups]
        return render_template("compare/groups.html", result=result, headers=headers, **ctx)
    raise ValidationError("Give ?experiments=1,2 or ?groups=1,2 to compare.")


def _experiment_urls(owner, project, experiments):
    """experiment id -> its page (the compared experiments may come from several groups)."""
    urls = {
        e.id: url_for(
            "ui.experiment_page",
            owner=owner,
            project=project,
            group_id=e.group_id,
            experiment_id=e.id,
        )
        for e in experiments
    }
    return urls.get
