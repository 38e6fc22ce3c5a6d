"""Group actions: stop, statuses, bookmarks, archive, TensorBoard."""

from flask import g

from dashboard.api import route, schemas, serialize
from dashboard.api.helpers import access, dump, empty, page_args, page_response, parse
from dashboard.services import bookmarks, groups, statuses, tensorboards

GROUP = "/<username>/<project_name>/groups/<int:group_id>"


@route(f"{GROUP}/stop/", ["POST"])
def stop_group(username, project_name, group_id):
    """Stop the group (body {"pending": true}: only its pending experiments)."""
    project = access(username, project_name, "stop")
    body = parse(schemas.StopIn)
    statuses.stop_group(project, group_id, pending_only=body.pending)
    return empty(200)


@route(f"{GROUP}/statuses/", ["GET"])
def list_statuses(username, project_name, group_id):
    """The group's status history, oldest first."""
    page = statuses.list_group_statuses(access(username, project_name), group_id, **page_args())
    return page_response(page, lambda row: serialize.group_status(row[0]).model_dump(mode="json"))


@route(f"{GROUP}/statuses/", ["POST"])
def post_status(username, project_name, group_id):
    """Append a status by hand (admins and staff)."""
    project = access(username, project_name, "post_status")
    body = parse(schemas.StatusIn)
    row = statuses.post_group_status(project, group_id, status=body.status, message=body.message)
    return dump(serialize.group_status(row), 201)


@route(f"{GROUP}/bookmark/", ["POST"])
def bookmark(username, project_name, group_id):
    """Bookmark the group for the requesting user."""
    bookmarks.bookmark_group(access(username, project_name), group_id)
    return empty(201)


@route(f"{GROUP}/unbookmark/", ["DELETE"])
def unbookmark(username, project_name, group_id):
    """Remove the requesting user's bookmark."""
    bookmarks.unbookmark_group(access(username, project_name), group_id)
    return empty(204)


@route(f"{GROUP}/archive/", ["POST"])
def archive(username, project_name, group_id):
    """Archive the group."""
    groups.set_archived(access(username, project_name), group_id, True)
    return empty(200)


@route(f"{GROUP}/restore/", ["POST"])
def restore(username, project_name, group_id):
    """Restore an archived group."""
    groups.set_archived(access(username, project_name), group_id, False)
    return empty(200)


@route(f"{GROUP}/tensorboard/start/", ["POST"])
def start_tensorboard(username, project_name, group_id):
    """Start the group's TensorBoard: 201 for a new job, 200 if one already runs."""
    project = access(username, project_name, "tensorboard")
    body = parse(schemas.TensorboardStartIn)
    job, created = tensorboards.start_tensorboard(
        project, group_id, content=body.content, is_managed=body.is_managed
    )
    return dump(serialize.tensorboard(job, project.project), 201 if created else 200)


@route(f"{GROUP}/tensorboard/stop/", ["POST"])
def stop_tensorboard(username, project_name, group_id):
    """Stop the group's TensorBoard (200 also when none runs)."""
    tensorboards.stop_tensorboard(access(username, project_name), group_id)
    return empty(200)


@route("/bookmarks/<username>/groups/", ["GET"])
def bookmarked_groups(username):
    """The user's bookmarked groups (another user's list is empty unless staff)."""
    page = bookmarks.bookmarks_of(username, actor=g.actor, **page_args())
    return page_response(
        page,
        lambda row: schemas.BookmarkOut(
            content_object=serialize.group_row(row[0], row[1], row[2])
        ).model_dump(mode="json"),
    )
