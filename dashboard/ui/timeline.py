"""The group page's timeline fragment (latest first, 50 a page, loaded by htmx; a page of its
own without JavaScript)."""

from flask import render_template, request

from dashboard.services.group import timeline
from dashboard.ui import route
from dashboard.ui.groups import GROUP, group_access, section

PER_PAGE = 50


@route(f"{GROUP}/timeline")
def group_timeline(owner, project, group_id):
    """One page of the group's timeline, newest first (?offset= pages back in time)."""
    offset = max(request.args.get("offset", 0, type=int) or 0, 0)
    entries = timeline.group_timeline(
        group_access(owner, project), group_id, limit=PER_PAGE, offset=offset, newest_first=True
    )
    html = render_template(
        "groups/_timeline.html",
        timeline=entries,
        group_id=group_id,
        owner=owner,
        project_name=project,
    )
    return section(owner, project, group_id, "Timeline", html)
