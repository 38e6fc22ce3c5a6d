"""TensorBoards over chosen experiments: started from the compare page or the group's compare
form, and served through the same proxy rules as a group's; any of the project's TensorBoards
stopped from the project page."""

from flask import flash, redirect, render_template, request, url_for

from dashboard.errors import ValidationError
from dashboard.services.project import tensorboards
from dashboard.ui import is_htmx, route
from dashboard.ui.groups import group_access
from dashboard.ui.pages.tensorboards import tensorboards_section
from dashboard.ui.tensorboard import forward, proxy_route

SELECTIONS = "/<owner>/<project>/tensorboards"
PROXY = "/tensorboard/<owner>/<project>/selections/<int:tensorboard_id>/"


def form_ids(raw):
    """The ids of a `1, 2, 3` field (the service checks what they are)."""
    parts = [part.strip() for part in (raw or "").split(",") if part.strip()]
    if not all(part.isascii() and part.isdigit() for part in parts):
        raise ValidationError(f"Experiment ids are comma-separated numbers, not '{raw[:100]}'.")
    return [int(part) for part in parts]


@route(SELECTIONS, methods=("POST",))
def selection_tensorboard_start(owner, project):
    """Start a TensorBoard over the form's experiments (or keep the same one), then open it."""
    access = group_access(owner, project)
    job, _ = tensorboards.start_selection(access, form_ids(request.form.get("experiments")))
    url = url_for("ui.selection_proxy", owner=owner, project=project, tensorboard_id=job.id)
    if is_htmx():
        return "", 200, {"HX-Redirect": url}
    return redirect(url)


@route(f"{SELECTIONS}/new")
def selection_tensorboard_new(owner, project):
    """Ask to open a TensorBoard over ?experiments=1,2 (the group's compare form without
    JavaScript: its GET form cannot post, nor carry the CSRF token into a URL)."""
    group_access(owner, project, "tensorboard")
    ids = tensorboards.check_ids(form_ids(request.args.get("experiments")))
    return render_template(
        "tensorboards/new.html",
        owner=owner,
        project_name=project,
        experiments=", ".join(map(str, ids)),
        start_url=url_for("ui.selection_tensorboard_start", owner=owner, project=project),
        project_url=url_for("ui.project", owner=owner, project=project),
    )


@route(f"{SELECTIONS}/<int:tensorboard_id>/stop", methods=("POST",))
def project_tensorboard_stop(owner, project, tensorboard_id):
    """Stop one of the project's TensorBoards (a group's or a selection's; a stopped one stays
    so); htmx gets the project page's TensorBoards section, others the page."""
    access = group_access(owner, project, "tensorboard")
    tensorboards.stop_job(access, tensorboard_id)
    if is_htmx():
        return render_template(
            "projects/_tensorboards.html",
            project=access.project,
            allowed=access.allowed,
            tensorboards=tensorboards_section(access),
        )
    flash(f"TensorBoard {tensorboard_id} stopped.", "success")
    return redirect(url_for("ui.project", owner=owner, project=project))


@proxy_route(PROXY)
def selection_proxy(owner, project, tensorboard_id, subpath=""):
    """Forward the request to the selection's TensorBoard on loopback (read access needed)."""
    return forward(tensorboards.proxy_target(group_access(owner, project), tensorboard_id))
