"""Group detail, update, delete, list and create."""

from flask import request

from dashboard import etags
from dashboard.api import route, serialize
from dashboard.api.helpers import access, dump, empty, page_args, page_response, parse
from dashboard.api.operations import LIST, Paged
from dashboard.api.schemas.groups import GroupCreateIn, GroupDetailOut, GroupRowOut, GroupUpdateIn
from dashboard.services.group import groups

GROUP = "/<username>/<project_name>/groups/<int:group_id>/"


@route(GROUP, ["GET"], out=GroupDetailOut)
def get_group(username, project_name, group_id):
    """The group's detail; 304 to an If-None-Match naming its current ETag."""
    held = groups.read_state(access(username, project_name), group_id)
    return etags.answer(
        held.group_state.stamp,
        lambda: dump(serialize.group_detail(groups.get_group(held, group_id))),
    )


@route(GROUP, ["PATCH", "PUT"], out=GroupDetailOut, body=GroupUpdateIn)
def update_group(username, project_name, group_id):
    """Update name, description, tags (merge) and concurrency."""
    project = access(username, project_name, "edit")
    body = parse(GroupUpdateIn)
    groups.update_group(project, group_id, fields=body.model_dump(include=body.model_fields_set))
    return dump(serialize.group_detail(groups.get_group(project, group_id)))


@route(GROUP, ["DELETE"], status=204, out=None)
def delete_group(username, project_name, group_id):
    """Delete the group and everything in it."""
    groups.delete_group(access(username, project_name), group_id)
    return empty(204)


@route(
    "/<username>/<project_name>/groups/",
    ["GET"],
    out=Paged(GroupRowOut),
    query=(*LIST, "archived"),
)
def list_groups(username, project_name):
    """The project's groups, filtered and sorted (archived ones with archived=true)."""
    project = access(username, project_name)
    archived = request.args.get("archived", "false").lower() in ("true", "1", "yes")
    page = groups.list_groups(
        project,
        query=request.args.get("query"),
        sort=request.args.get("sort"),
        archived=archived,
        **page_args(),
    )
    return page_response(
        page,
        lambda row: serialize.group_row(row[0], project.project, row[1]).model_dump(mode="json"),
    )


@route(
    "/<username>/<project_name>/groups/",
    ["POST"],
    status=201,
    out=GroupDetailOut,
    body=GroupCreateIn,
)
def create_group(username, project_name):
    """Create a group from a polyaxonfile."""
    project = access(username, project_name, "create_group")
    body = parse(GroupCreateIn)
    group = groups.create_group(
        project,
        content=body.content,
        name=body.name,
        description=body.description,
        tags=body.tags,
    )
    return dump(serialize.group_detail(groups.get_group(project, group.id)), 201)
