"""Control of a search from its page: pause, resume, retry, extend (htmx gets the changed
fragments, a plain form post a redirect with a message)."""

from flask import request

from dashboard.services.group import control
from dashboard.ui import route
from dashboard.ui.group_actions import EXPERIMENTS_CHANGED, answer
from dashboard.ui.groups import GROUP, group_access
from dashboard.ui.pages import group_forms
from dashboard.ui.pages.formatting import plural

# What these actions change: the status (header, history, actions) and the experiments.
PARTS = ("_actions", "_header", "_counts", "_history")


@route(f"{GROUP}/pause", methods=("POST",))
def group_pause(owner, project, group_id):
    """Pause the group: nothing new starts; what runs runs on."""
    access = group_access(owner, project)
    control.pause_group(access, group_id)
    return answer(access, owner, project, group_id, PARTS, "The group is paused.")


@route(f"{GROUP}/resume", methods=("POST",))
def group_resume(owner, project, group_id):
    """Resume the paused group."""
    access = group_access(owner, project)
    control.resume_group(access, group_id)
    return answer(access, owner, project, group_id, PARTS, "The group is running again.")


@route(f"{GROUP}/retry", methods=("POST",))
def group_retry(owner, project, group_id):
    """Retry the group's failed and stopped experiments not retried yet."""
    access = group_access(owner, project)
    ids = control.retry_group(access, group_id)
    message = f"{len(ids)} {plural(len(ids))} retried."
    return answer(access, owner, project, group_id, PARTS, message, EXPERIMENTS_CHANGED)


@route(f"{GROUP}/extend", methods=("POST",))
def group_extend(owner, project, group_id):
    """Extend the search by the number typed."""
    access = group_access(owner, project)
    count = group_forms.extend_count(request.form.get("n_experiments"))
    control.extend_group(access, group_id, n_experiments=count)
    message = f"The search is extended by {count}."
    return answer(access, owner, project, group_id, PARTS, message, EXPERIMENTS_CHANGED)
