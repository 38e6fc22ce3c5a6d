"""A group's objective (the metric to optimise) and its best experiment."""

from dashboard.api import route, schemas
from dashboard.api.helpers import access, dump, parse
from dashboard.services import objective as objective_service
from dashboard.services.lookups import load_group

OBJECTIVE = "/<username>/<project_name>/groups/<int:group_id>/objective/"


def _objective(group):
    objective = objective_service.objective_of(group)
    if objective is None:
        return dump(schemas.ObjectiveOut(metric=None, optimization=None, source=None))
    return dump(schemas.ObjectiveOut(metric=objective.metric, optimization=objective.optimization,
                                     source=objective.source))


@route(OBJECTIVE, ["GET"])
def get_objective(username, project_name, group_id):
    """The group's objective: the user's choice, else the spec's, else nulls."""
    return _objective(load_group(access(username, project_name), group_id))


@route(OBJECTIVE, ["PUT"])
def set_objective(username, project_name, group_id):
    """Choose the metric to optimise and its direction (members and up)."""
    project = access(username, project_name, "edit")
    body = parse(schemas.ObjectiveIn)
    group = objective_service.set_objective(project, group_id, body.metric, body.optimization)
    return _objective(group)
