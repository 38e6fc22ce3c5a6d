"""A group's timeline: status rows of the group and its experiments, and user actions."""

from typing import Literal

from dashboard.api import route
from dashboard.api.helpers import access, page_args, page_response
from dashboard.api.schemas import Response, Timestamp
from dashboard.services import timeline

GROUP = "/<username>/<project_name>/groups/<int:group_id>"


class TimelineItemOut(Response):
    """One timeline entry (declared here: api/schemas.py is shared by concurrent work)."""

    time: Timestamp
    kind: str
    source: Literal["group_status", "experiment_status", "action"]
    user: str | None
    message: str | None
    experiment: int | None
    status: str | None


@route(f"{GROUP}/timeline/", ["GET"])
def group_timeline(username, project_name, group_id):
    """The group's timeline, oldest first, paginated."""
    page = timeline.group_timeline(access(username, project_name), group_id, **page_args())
    return page_response(page,
                         lambda item: TimelineItemOut.model_validate(item).model_dump(mode="json"))
