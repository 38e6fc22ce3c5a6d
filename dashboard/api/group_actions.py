"""Group actions: stop, statuses, bookmarks, archive, TensorBoard, clone, around best."""

from flask import g, request

from dashboard.api import route, serialize
from dashboard.api.helpers import access, dump, empty, page_args, page_response, parse
from dashboard.api.operations import PAGE, Paged
from dashboard.api.schemas.groups import (
    BookmarkOut,
    GroupCloneIn,
    GroupDetailOut,
    GroupStatusOut,
    StatusIn,
    StopIn,
    TensorboardOut,
    TensorboardStartIn,
)
from dashboard.services.group import bookmarks, clones, groups, statuses, tensorboards

GROUP = "/<username>/<project_name>/groups/<int:group_id>"


@route(f"{GROUP}/stop/", ["POST"], out=None, body=StopIn)
def stop_group(username, project_name, group_id):
    """Stop the group (body {"pending": true}: only its pending experiments)."""
    project = access(username, project_name, "stop")
    body = parse(StopIn)
    groups.stop_group(project, group_id, pending_only=body.pending)
    return empty(200)


@route(f"{GROUP}/statuses/", ["GET"], out=Paged(GroupStatusOut), query=PAGE)
def list_statuses(username, project_name, group_id):
    """The group's status history, oldest first."""
    page = statuses.list_group_statuses(access(username, project_name), group_id, **page_args())
    return page_response(page, lambda row: serialize.group_status(row[0]).model_dump(mode="json"))


@route(f"{GROUP}/statuses/", ["POST"], status=201, out=GroupStatusOut, body=StatusIn)
def post_status(username, project_name, group_id):
    """Append a status by hand (admins and staff)."""
    project = access(username, project_name, "post_status")
    body = parse(StatusIn)
    row = statuses.post_group_status(project, group_id, status=body.status, message=body.message)
    return dump(serialize.group_status(row), 201)


@route(f"{GROUP}/bookmark/", ["POST"], status=201, out=None)
def bookmark(username, project_name, group_id):
    """Bookmark the group for the requesting user."""
    bookmarks.bookmark_group(access(username, project_name), group_id)
    return empty(201)


@route(f"{GROUP}/unbookmark/", ["DELETE"], status=204, out=None)
def unbookmark(username, project_name, group_id):
    """Remove the requesting user's bookmark."""
    bookmarks.unbookmark_group(access(username, project_name), group_id)
    return empty(204)


@route(f"{GROUP}/archive/", ["POST"], out=None)
def archive(username, project_name, group_id):
    """Archive the group."""
    groups.set_archived(access(username, project_name), group_id, True)
    return empty(200)


@route(f"{GROUP}/restore/", ["POST"], out=None)
def restore(username, project_name, group_id):
    """Restore an archived group."""
    groups.set_archived(access(username, project_name), group_id, False)
    return empty(200)


@route(
    f"{GROUP}/tensorboard/start/",
    ["POST"],
    status=201,
    out=TensorboardOut,
    body=TensorboardStartIn,
    also={200: TensorboardOut},
    errors=(409,),
)
def start_tensorboard(username, project_name, group_id):
    """Start the group's TensorBoard: 201 for a new job, 200 if one already runs."""
    project = access(username, project_name, "tensorboard")
    body = parse(TensorboardStartIn)
    job, created = tensorboards.start_tensorboard(
        project, group_id, content=body.content, is_managed=body.is_managed
    )
    return dump(serialize.tensorboard(job, project.project), 201 if created else 200)


@route(f"{GROUP}/tensorboard/stop/", ["POST"], out=None)
def stop_tensorboard(username, project_name, group_id):
    """Stop the group's TensorBoard (200 also when none runs)."""
    tensorboards.stop_tensorboard(access(username, project_name), group_id)
    return empty(200)


@route(f"{GROUP}/clone/", ["POST"], status=201, out=GroupDetailOut, body=GroupCloneIn)
def clone_group(username, project_name, group_id):
    """Clone the group: a new group of the project from its polyaxonfile (or the given one)."""
    project = access(username, project_name, "create_group")
    body = parse(GroupCloneIn)
    group = clones.clone_group(project, group_id, **body.model_dump())
    return dump(serialize.group_detail(groups.get_group(project, group.id)), 201)


@route(f"{GROUP}/around-best/", ["GET"], out={"text/yaml": str}, query=("spread",))
def around_best(username, project_name, group_id):
    """The group's polyaxonfile narrowed around its best experiment, as YAML."""
    found = clones.around_best(access(username, project_name), group_id, request.args.get("spread"))
    return found.content, 200, {"Content-Type": "text/yaml; charset=utf-8"}


@route("/bookmarks/<username>/groups/", ["GET"], out=Paged(BookmarkOut), query=PAGE)
def bookmarked_groups(username):
    """The user's bookmarked groups (another user's list is empty unless staff)."""
    page = bookmarks.bookmarks_of(username, actor=g.actor, **page_args())
    return page_response(
        page,
        lambda row: BookmarkOut(
            content_object=serialize.group_row(row[0], row[1], row[2])
        ).model_dump(mode="json"),
    )
