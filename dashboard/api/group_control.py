"""Control of a search's life: pause, resume, retry, extend (EXTENSIONS.md section 2)."""

from dashboard.api import route, serialize
from dashboard.api.helpers import access, dump, parse
from dashboard.api.schemas.groups import ExperimentIdsOut, ExtendIn, GroupDetailOut, RetryIn
from dashboard.services.group import control, groups

GROUP = "/<username>/<project_name>/groups/<int:group_id>"


def _detail(project, group_id):
    return dump(serialize.group_detail(groups.get_group(project, group_id)))


@route(f"{GROUP}/pause/", ["POST"], out=GroupDetailOut, errors=(400,))
def pause_group(username, project_name, group_id):
    """Pause a running group: nothing new starts in it; what runs runs on (400 otherwise)."""
    project = access(username, project_name, "control")
    control.pause_group(project, group_id)
    return _detail(project, group_id)


@route(f"{GROUP}/resume/", ["POST"], out=GroupDetailOut, errors=(400,))
def resume_group(username, project_name, group_id):
    """Resume a paused group (400 otherwise)."""
    project = access(username, project_name, "control")
    control.resume_group(project, group_id)
    return _detail(project, group_id)


@route(f"{GROUP}/retry/", ["POST"], status=201, out=ExperimentIdsOut, body=RetryIn)
def retry_group(username, project_name, group_id):
    """Retry the group's experiments of these statuses (default failed and stopped) that were
    not retried yet, each in its original's place; a final group goes back to running."""
    project = access(username, project_name, "control")
    body = parse(RetryIn)
    ids = control.retry_group(project, group_id, statuses_to_retry=body.statuses)
    return dump(ExperimentIdsOut(experiments=ids), 201)


@route(f"{GROUP}/extend/", ["POST"], status=201, out=ExperimentIdsOut, body=ExtendIn)
def extend_group(username, project_name, group_id):
    """Extend the search by n_experiments (grid and random ones are created now and listed;
    the other searches make theirs as they go); a final group goes back to running."""
    project = access(username, project_name, "control")
    body = parse(ExtendIn)
    ids = control.extend_group(project, group_id, n_experiments=body.n_experiments)
    return dump(ExperimentIdsOut(experiments=ids), 201)
