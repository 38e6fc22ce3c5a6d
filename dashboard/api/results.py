"""A group's objective (the metric to optimise) and its best experiment."""

from typing import Literal

from pydantic import Field

from dashboard.api import route
from dashboard.api.helpers import access, dump, parse
from dashboard.api.schemas import Request, Response
from dashboard.services import objective as objective_service
from dashboard.services.lookups import load_group

OBJECTIVE = "/<username>/<project_name>/groups/<int:group_id>/objective/"


class ObjectiveIn(Request):
    metric: str = Field(min_length=1, max_length=objective_service.MAX_METRIC_NAME)
    optimization: Literal["maximize", "minimize"]


class ObjectiveOut(Response):
    metric: str | None
    optimization: str | None
    source: Literal["user", "spec"] | None


def _objective(group):
    objective = objective_service.objective_of(group)
    if objective is None:
        return dump(ObjectiveOut(metric=None, optimization=None, source=None))
    return dump(ObjectiveOut(metric=objective.metric, optimization=objective.optimization,
                             source=objective.source))


@route(OBJECTIVE, ["GET"])
def get_objective(username, project_name, group_id):
    """The group's objective: the user's choice, else the spec's, else nulls."""
    return _objective(load_group(access(username, project_name), group_id))


@route(OBJECTIVE, ["PUT"])
def set_objective(username, project_name, group_id):
    """Choose the metric to optimise and its direction (members and up)."""
    body = parse(ObjectiveIn)
    group = objective_service.set_objective(access(username, project_name), group_id,
                                            body.metric, body.optimization)
    return _objective(group)
