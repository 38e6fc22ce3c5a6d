"""The project page: its groups with progress, the status filter, new group, bookmark stars,
its running TensorBoards."""

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from dashboard.errors import ValidationError
from dashboard.services.group import bookmarks, groups
from dashboard.services.project.access import project_access
from dashboard.ui import is_htmx, route
from dashboard.ui.pages import group_clone
from dashboard.ui.pages import project as project_pages
from dashboard.ui.pages.tensorboards import tensorboards_section


def _project_page(access, *, content="", errors=None, status=200, clone=None):
    page = project_pages.project_page(
        access, status=request.args.get("status"), offset=request.args.get("offset", 0, type=int)
    )
    return render_template(
        "projects/project.html",
        project=access.project,
        allowed=access.allowed,
        page=page,
        tensorboards=tensorboards_section(access),
        content=content,
        errors=errors or {},
        clone=clone,
    ), status


@route("/<owner>/<project>/")
def project(owner, project):
    """The project's groups, newest first, optionally of one status."""
    return _project_page(project_access(owner, project, actor=current_user))


@route("/<owner>/<project>/groups", methods=("POST",))
def create_group(owner, project):
    """Create a group from the polyaxonfile in the form (a clone of the group `cloned_from`,
    named by `name`, when the clone page sent it), then open it; errors shown inline."""
    access = project_access(owner, project, actor=current_user, action="create_group")
    content = request.form.get("content", "")
    clone = group_clone.CloneFields.of(request.form)
    try:
        group = groups.create_group(access, content=content, **clone.fields)
    except ValidationError as exc:
        errors = exc.fields or {"content": [exc.detail]}
        return _project_page(access, content=content, errors=errors, status=400, clone=clone)
    return redirect(f"/{owner}/{project}/groups/{group.id}/")


@route("/<owner>/<project>/groups/<int:group_id>/clone")
def clone_group(owner, project, group_id):
    """The new-group form pre-filled with the group's polyaxonfile, creating a clone of it."""
    access = project_access(owner, project, actor=current_user, action="create_group")
    return _clone_page(group_clone.clone_form(access, group_id))


@route("/<owner>/<project>/groups/<int:group_id>/around-best")
def around_best(owner, project, group_id):
    """The new-group form pre-filled with the group's polyaxonfile narrowed around its best
    experiment (?spread=), saying what was narrowed; why not, inline, when it cannot be."""
    access = project_access(owner, project, actor=current_user, action="create_group")
    return _clone_page(group_clone.around_best_form(access, group_id, request.args.get("spread")))


def _clone_page(form):
    return render_template("groups/clone.html", form=form), 400 if form.errors else 200


@route("/<owner>/<project>/groups/<int:group_id>/star", methods=("POST",))
def star_group(owner, project, group_id):
    """Bookmark (on=1) or unbookmark the group; htmx gets the star back, others the page."""
    access = project_access(owner, project, actor=current_user, action="bookmark")
    on = request.form.get("on") == "1"
    if on:
        group = bookmarks.bookmark_group(access, group_id)
    else:
        group = bookmarks.unbookmark_group(access, group_id)
    if is_htmx():
        return render_template(
            "projects/_star.html", project=access.project, group=group, bookmarked=on
        )
    return redirect(
        url_for(
            "ui.project", owner=owner, project=project, status=request.form.get("status") or None
        )
    )
