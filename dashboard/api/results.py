"""A group's objective (the metric to optimise) and its best experiment."""

from dashboard.api import route
from dashboard.api.helpers import access, dump, parse
from dashboard.api.schemas.groups import ObjectiveIn, ObjectiveOut
from dashboard.services.group import objective as objective_service
from dashboard.services.lookups import load_group

OBJECTIVE = "/<username>/<project_name>/groups/<int:group_id>/objective/"


def _objective(group):
    objective = objective_service.objective_of(group)
    if objective is None:
        return dump(ObjectiveOut(metric=None, optimization=None, source=None))
    return dump(
        ObjectiveOut(
            metric=objective.metric, optimization=objective.optimization, source=objective.source
        )
    )


@route(OBJECTIVE, ["GET"], out=ObjectiveOut)
def get_objective(username, project_name, group_id):
    """The group's objective: the user's choice, else the spec's, else nulls."""
    return _objective(load_group(access(username, project_name), group_id))


@route(OBJECTIVE, ["PUT"], out=ObjectiveOut, body=ObjectiveIn)
def set_objective(username, project_name, group_id):
    """Choose the metric to optimise and its direction (members and up)."""
    project = access(username, project_name, "edit")
    body = parse(ObjectiveIn)
    group = objective_service.set_objective(project, group_id, body.metric, body.optimization)
    return _objective(group)
