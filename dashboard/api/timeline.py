"""A group's timeline: status rows of the group and its experiments, and user actions."""

from dashboard.api import route
from dashboard.api.helpers import access, page_args, page_response
from dashboard.api.operations import PAGE, Paged
from dashboard.api.schemas.groups import TimelineItemOut
from dashboard.services.group import timeline

GROUP = "/<username>/<project_name>/groups/<int:group_id>"


@route(f"{GROUP}/timeline/", ["GET"], out=Paged(TimelineItemOut), query=PAGE)
def group_timeline(username, project_name, group_id):
    """The group's timeline, oldest first, paginated."""
    page = timeline.group_timeline(access(username, project_name), group_id, **page_args())
    return page_response(
        page, lambda item: TimelineItemOut.model_validate(item).model_dump(mode="json")
    )
