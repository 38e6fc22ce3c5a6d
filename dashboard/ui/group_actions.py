"""Group actions from the page: htmx gets the changed fragments, a plain form post a redirect."""

from flask import flash, redirect, request, url_for

from dashboard.services.group import bookmarks, groups
from dashboard.ui import is_htmx, route
from dashboard.ui.groups import GROUP, context, group_access, render_parts
from dashboard.ui.pages import group as group_pages
from dashboard.ui.pages import group_forms

# Stopping changes experiment rows: the table refreshes itself on this event.
EXPERIMENTS_CHANGED = "group-experiments-changed"


def answer(access, owner, project, group_id, parts, message, trigger=None):
    """htmx: the first part for the target plus the rest out of band; else back to the page."""
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("ui.group_page", owner=owner, project=project, group_id=group_id))
    page = group_pages.group_summary(access, group_id)
    headers = {"HX-Trigger": trigger} if trigger else {}
    return render_parts(context(owner, project, page), *parts), 200, headers


@route(f"{GROUP}/stop", methods=("POST",))
def group_stop(owner, project, group_id):
    """Stop the group's experiments (form field pending=1: only the pending ones)."""
    access = group_access(owner, project)
    group = groups.stop_group(access, group_id, pending_only=request.form.get("pending") == "1")
    return answer(
        access,
        owner,
        project,
        group_id,
        ("_actions", "_header", "_counts", "_history"),
        f"The group is {group.status}.",
        EXPERIMENTS_CHANGED,
    )


@route(f"{GROUP}/bookmark", methods=("POST",))
def group_bookmark(owner, project, group_id):
    """Bookmark the group for the signed-in user."""
    access = group_access(owner, project)
    bookmarks.bookmark_group(access, group_id)
    return answer(access, owner, project, group_id, ("_bookmark",), "Group bookmarked.")


@route(f"{GROUP}/unbookmark", methods=("POST",))
def group_unbookmark(owner, project, group_id):
    """Remove the signed-in user's bookmark of the group."""
    access = group_access(owner, project)
    bookmarks.unbookmark_group(access, group_id)
    return answer(access, owner, project, group_id, ("_bookmark",), "Bookmark removed.")


@route(f"{GROUP}/edit", methods=("POST",))
def group_edit(owner, project, group_id):
    """Save the description and the tags (comma-separated)."""
    access = group_access(owner, project)
    fields = group_forms.edit_fields(
        description=request.form.get("description"), tags=request.form.get("tags")
    )
    groups.update_group(access, group_id, fields=fields)
    return answer(access, owner, project, group_id, ("_description",), "Description saved.")


@route(f"{GROUP}/concurrency", methods=("POST",))
def group_concurrency(owner, project, group_id):
    """Change how many experiments run at once (the scheduler applies it at once)."""
    access = group_access(owner, project)
    groups.update_group(
        access, group_id, fields=group_forms.concurrency_field(request.form.get("concurrency"))
    )
    if not is_htmx():
        return answer(access, owner, project, group_id, (), "Concurrency changed.")
    page = group_pages.group_with_matrix(access, group_id)
    return render_parts(context(owner, project, page), "_matrix", "_header")


@route(f"{GROUP}/archive", methods=("POST",))
def group_archive(owner, project, group_id):
    """Archive the group."""
    access = group_access(owner, project)
    groups.set_archived(access, group_id, True)
    return answer(access, owner, project, group_id, ("_actions", "_header"), "Group archived.")


@route(f"{GROUP}/restore", methods=("POST",))
def group_restore(owner, project, group_id):
    """Restore the archived group."""
    access = group_access(owner, project)
    groups.set_archived(access, group_id, False)
    return answer(access, owner, project, group_id, ("_actions", "_header"), "Group restored.")


@route(f"{GROUP}/delete", methods=("POST",))
def group_delete(owner, project, group_id):
    """Delete the group, then go to the project page (htmx: HX-Redirect)."""
    groups.delete_group(group_access(owner, project), group_id)
    project_url = url_for("ui.project", owner=owner, project=project)
    if is_htmx():
        return "", 200, {"HX-Redirect": project_url}
    flash(f"Group {group_id} deleted.", "success")
    return redirect(project_url)
