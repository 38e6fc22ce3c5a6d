"""Projects: read one, list a user's, create."""

from flask import g

from dashboard.api import route, serialize
from dashboard.api.helpers import access, dump, page_args, page_response, parse
from dashboard.api.operations import PAGE, Paged
from dashboard.api.schemas.projects import ProjectCreateIn, ProjectOut
from dashboard.services.project import projects


@route("/<username>/<project_name>/", ["GET"], out=ProjectOut)
def get_project(username, project_name):
    """The project U/P."""
    return dump(serialize.project_out(access(username, project_name).project))


@route("/<username>/", ["GET"], out=Paged(ProjectOut), query=PAGE)
def list_projects(username):
    """The user's projects that the caller can see."""
    page = projects.list_projects(username, actor=g.actor, **page_args())
    return page_response(page, lambda row: serialize.project_out(row[0]).model_dump(mode="json"))


@route("/projects/", ["POST"], status=201, out=ProjectOut, body=ProjectCreateIn)
def create_project(username=None):
    """Create a project owned by the caller."""
    body = parse(ProjectCreateIn)
    project = projects.create_project(
        actor=g.actor,
        name=body.name,
        description=body.description,
        is_public=body.is_public,
        tags=body.tags,
    )
    return dump(serialize.project_out(project), 201)
