"""The project's code upload (`polyaxon upload`: a multipart PUT with the tarball as `repo`)."""

from flask import request

from dashboard.api import route, serialize
from dashboard.api.helpers import access, dump
from dashboard.api.schemas.projects import RepoUploadOut
from dashboard.errors import ValidationError
from dashboard.services.project import uploads


def _tarball():
    if not request.mimetype.startswith("multipart/"):
        raise ValidationError(
            f"Unsupported content type '{request.mimetype or 'none'}': send multipart/form-data "
            "with the code as a .tar.gz file in the field 'repo'."
        )
    return request.files.get("repo")


@route(
    "/<username>/<project_name>/repo/upload/",
    ["PUT", "POST"],
    status=201,
    out=RepoUploadOut,
    upload=True,
)
def upload_repo(username, project_name):
    """Upload the project's code (member and up); 201 with the upload."""
    project = access(username, project_name, "upload_repo")
    upload = uploads.upload_repo(project, _tarball())
    return dump(serialize.repo_upload(upload, project.project, project.actor), 201)
