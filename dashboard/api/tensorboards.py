"""A project's TensorBoards: the list (groups' and selections'), one job, a selection's start
and any job's stop."""

from dashboard.api import route, serialize
from dashboard.api.helpers import access, dump, page_args, page_response, parse
from dashboard.api.operations import PAGE, Paged
from dashboard.api.schemas.tensorboards import ProjectTensorboardOut, SelectionIn
from dashboard.services.project import tensorboards

TENSORBOARDS = "/<username>/<project_name>/tensorboards/"
TENSORBOARD = f"{TENSORBOARDS}<int:tensorboard_id>/"


@route(TENSORBOARDS, ["GET"], out=Paged(ProjectTensorboardOut), query=PAGE)
def list_tensorboards(username, project_name):
    """The project's TensorBoard jobs, newest first (`polyaxon project tensorboards`)."""
    project = access(username, project_name)
    page = tensorboards.list_tensorboards(project, **page_args())
    return page_response(
        page,
        lambda row: serialize.project_tensorboard(row[0], project.project).model_dump(mode="json"),
    )


@route(
    TENSORBOARDS,
    ["POST"],
    status=201,
    out=ProjectTensorboardOut,
    body=SelectionIn,
    also={200: ProjectTensorboardOut},
    errors=(409,),
)
def start_selection(username, project_name):
    """Start a TensorBoard over chosen experiments: 201, or 200 with the same one running."""
    project = access(username, project_name, "tensorboard")
    body = parse(SelectionIn)
    job, created = tensorboards.start_selection(project, body.experiments)
    return dump(serialize.project_tensorboard(job, project.project), 201 if created else 200)


@route(TENSORBOARD, ["GET"], out=ProjectTensorboardOut)
def get_tensorboard(username, project_name, tensorboard_id):
    """One TensorBoard job of the project."""
    project = access(username, project_name)
    job = tensorboards.get_tensorboard(project, tensorboard_id)
    return dump(serialize.project_tensorboard(job, project.project))


@route(f"{TENSORBOARD}stop/", ["POST"], out=ProjectTensorboardOut)
def stop_tensorboard_job(username, project_name, tensorboard_id):
    """Stop the TensorBoard job (200 with the job, also when it was not running)."""
    project = access(username, project_name, "tensorboard")
    job = tensorboards.stop_job(project, tensorboard_id)
    return dump(serialize.project_tensorboard(job, project.project))
