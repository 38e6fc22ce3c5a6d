"""The experiment page (log polling, stop, restart/resume/copy) and the group's plot and
coverage fragments."""

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from dashboard.services.experiment import experiment_actions, restarts
from dashboard.services.plots import plots
from dashboard.ui import charts, is_htmx, route
from dashboard.ui.groups import GROUP, STOP_POLLING, conditional, section
from dashboard.ui.pages import axis_filters, coverage, formatting
from dashboard.ui.pages import experiment as experiment_pages

EXPERIMENT = f"{GROUP}/experiments/<int:experiment_id>"


def experiment_access(owner, project, group_id, experiment_id, action="read"):
    """The experiment of the group as the signed-in user may act on it (NotFound, Forbidden)."""
    return experiment_pages.load(
        owner,
        project,
        group_id,
        experiment_id,
        actor=current_user._get_current_object(),
        action=action,
    )


def experiment_urls(owner, project, group_id, experiment_id):
    """The URLs the experiment page links and posts to."""
    ids = {"owner": owner, "project": project, "group_id": group_id}
    urls = {
        name: url_for(f"ui.experiment_{name}", experiment_id=experiment_id, **ids)
        for name in ("page", "log", "stop", "notes")
    }
    for strategy in restarts.DONE:
        urls[strategy] = url_for(f"ui.experiment_{strategy}", experiment_id=experiment_id, **ids)
    urls["group"] = url_for("ui.group_page", **ids)
    urls["project"] = url_for("ui.project", owner=owner, project=project)
    return urls


def experiment_context(owner, project, page):
    """What the experiment page's templates get: the page data, charts, URLs, neighbours."""
    group_id = page.group.id
    return {
        "page": page,
        "owner": owner,
        "project_name": project,
        "svg": charts,
        "urls": experiment_urls(owner, project, group_id, page.experiment.id),
        "neighbour": lambda eid: url_for(
            "ui.experiment_page", owner=owner, project=project, group_id=group_id, experiment_id=eid
        ),
    }


@route(f"{EXPERIMENT}/")
def experiment_page(owner, project, group_id, experiment_id):
    """One experiment: params, status history, metric chart, log, outputs, neighbours, Stop."""
    page = experiment_pages.experiment_page(
        experiment_access(owner, project, group_id, experiment_id)
    )
    return render_template("experiments/page.html", **experiment_context(owner, project, page))


@route(f"{EXPERIMENT}/log")
def experiment_log(owner, project, group_id, experiment_id):
    """The log tail for polling; 286 once the experiment is final."""
    log, final = experiment_pages.experiment_log(
        experiment_access(owner, project, group_id, experiment_id)
    )
    body = render_template(
        "experiments/_log.html",
        log=log,
        final=final,
        urls=experiment_urls(owner, project, group_id, experiment_id),
    )
    return body, STOP_POLLING if final else 200


@route(f"{EXPERIMENT}/stop", methods=("POST",))
def experiment_stop(owner, project, group_id, experiment_id):
    """Stop the experiment (member+); htmx gets the refreshed status panel."""
    access = experiment_access(owner, project, group_id, experiment_id, "stop")
    experiment_actions.stop_experiment(access)
    if not is_htmx():
        return redirect(
            url_for(
                "ui.experiment_page",
                owner=owner,
                project=project,
                group_id=group_id,
                experiment_id=experiment_id,
            )
        )
    page = experiment_pages.experiment_page(access)
    return render_template("experiments/_status.html", **experiment_context(owner, project, page))


def _clone(owner, project, group_id, experiment_id, strategy):
    access = experiment_access(owner, project, group_id, experiment_id, "clone_experiment")
    clone = restarts.clone_experiment(access, strategy)
    url = experiment_urls(owner, project, group_id, clone.id)["page"]
    return ("", 200, {"HX-Redirect": url}) if is_htmx() else redirect(url)


@route(f"{EXPERIMENT}/restart", methods=("POST",))
def experiment_restart(owner, project, group_id, experiment_id):
    """Restart the experiment (member+), then go to the new one's page (htmx: HX-Redirect)."""
    return _clone(owner, project, group_id, experiment_id, "restart")


@route(f"{EXPERIMENT}/resume", methods=("POST",))
def experiment_resume(owner, project, group_id, experiment_id):
    """Resume the experiment (member+): the new one writes into its outputs folder."""
    return _clone(owner, project, group_id, experiment_id, "resume")


@route(f"{EXPERIMENT}/copy", methods=("POST",))
def experiment_copy(owner, project, group_id, experiment_id):
    """Copy the experiment (member+): the new one's outputs start as a copy of its own."""
    return _clone(owner, project, group_id, experiment_id, "copy")


@route(f"{GROUP}/plots")
def group_plots(owner, project, group_id):
    """The group's plots (loaded by the group page after it renders, polled while it runs)."""
    return conditional(owner, project, group_id, lambda access: _plots(access, owner, project))


def _plots(access, owner, project):
    group_id, args = access.group_state.group.id, request.args
    chosen = {name: args.get(name) or None for name in ("metric", "x", "y")}
    data, live = plots.all_plots(access, group_id, **chosen)
    url = url_for("ui.group_plots", owner=owner, project=project, group_id=group_id)
    # While the group runs the plots refresh themselves, keeping the chosen metric and pair.
    asked = {name: value for name, value in chosen.items() if value}
    refresh = (
        url_for("ui.group_plots", owner=owner, project=project, group_id=group_id, **asked)
        if live
        else None
    )
    ids = {"owner": owner, "project": project, "group_id": group_id}
    group_page = url_for("ui.group_page", **ids)

    def experiment_url(experiment_id):
        return url_for("ui.experiment_page", experiment_id=experiment_id, **ids)

    html = render_template(
        "groups/_plots.html",
        group_plots=data,
        svg=charts,
        marks=charts.Marks(experiment_url, _params_of(data)),
        plots_url=url,
        refresh_url=refresh,
        experiment_url=experiment_url,
        csv_url=url_for("ui.group_export_csv", **ids),
        # On the group page the table is just above; the plots' own page links back to it.
        table_url=("" if is_htmx() else group_page) + "#group-experiments",
        table_page=group_page,
        table_hx=url_for("ui.group_experiments", **ids),
        axis_filters=axis_filters.axis_filters,
    )
    return section(owner, project, group_id, "Plots", html)


def _params_of(data):
    """{experiment: params} of the experiments the plots draw (the parallel plot carries them)."""
    return {
        line["experiment"]: line["params"] for line in data.get("parallel", {}).get("lines") or ()
    }


@route(f"{GROUP}/coverage")
def group_coverage(owner, project, group_id):
    """The matrix coverage map (loaded by the group page after it renders, polled while it
    runs)."""
    return conditional(owner, project, group_id, lambda access: _coverage(access, owner, project))


def _coverage(access, owner, project):
    group_id = access.group_state.group.id
    data = coverage.group_coverage(access, group_id)
    url = url_for("ui.group_coverage", owner=owner, project=project, group_id=group_id)
    colour = "metric" if request.args.get("colour") == "metric" else "status"
    # While the group runs the map refreshes itself, in the chosen colouring.
    refresh = (
        url_for("ui.group_coverage", owner=owner, project=project, group_id=group_id, colour=colour)
        if data.live
        else None
    )
    html = render_template(
        "groups/_coverage.html",
        coverage_map=data,
        svg=charts,
        coverage_url=url,
        colour=colour,
        refresh_url=refresh,
        value_text=formatting.display_value,
    )
    return section(owner, project, group_id, "Matrix coverage", html)
