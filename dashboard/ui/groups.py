"""The group page and the fragments it refreshes (polling, experiments table)."""

from urllib.parse import urlencode

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from dashboard.services import group_pages
from dashboard.services.access import project_access
from dashboard.ui import is_htmx, route

GROUP = "/<owner>/<project>/groups/<int:group_id>"
ACTIONS = ("stop", "bookmark", "unbookmark", "edit", "archive", "restore", "delete",
           "tensorboard_start", "tensorboard_stop", "concurrency")
# htmx answers with status 286 stop the polling element's timer.
STOP_POLLING = 286


def group_access(owner, project, action="read"):
    """The project as the signed-in user sees it (NotFound / Forbidden are raised)."""
    return project_access(owner, project, actor=current_user._get_current_object(), action=action)


def group_urls(owner, project, group_id):
    """The URLs the group's templates link and post to."""
    ids = {"owner": owner, "project": project, "group_id": group_id}
    urls = {name: url_for(f"ui.group_{name}", **ids) for name in ACTIONS + ("live", "experiments")}
    urls["page"] = url_for("ui.group_page", **ids)
    urls["project"] = url_for("ui.project", owner=owner, project=project)
    urls["tensorboard_open"] = url_for("ui.tensorboard_proxy", **ids)
    return urls


def page_number():
    """?page= as a positive integer (1 when missing or not a number)."""
    return max(request.args.get("page", 1, type=int) or 1, 1)


def table_links(urls, table):
    """hrefs (full page, works without JS) and hx-gets (the table fragment) for sort and page."""

    def link(sort, page):
        args = {key: value for key, value in (("sort", sort), ("page", page)) if value}
        query = f"?{urlencode(args)}" if args else ""
        return {"href": urls["page"] + query, "hx": urls["experiments"] + query}

    def for_page(number):
        return link(table.sort, number if number > 1 else None)

    def for_sort(key):
        return link(table.next_sort(key), None)

    return {"page": for_page, "sort": for_sort, "current": for_page(table.page)}


def context(access, owner, project, page):
    """What every group template gets: the page data, the actor's rights and the URLs."""
    urls = group_urls(owner, project, page.group.id)
    links = table_links(urls, page.experiments) if page.experiments else None
    return {"page": page, "allowed": access.allowed, "urls": urls, "links": links,
            "owner": owner, "project_name": project}


def render_parts(ctx, main, *oob):
    """The fragment for the htmx target, then others swapped out of band (by their ids)."""
    html = render_template(f"groups/{main}.html", oob=False, **ctx)
    return html + "".join(render_template(f"groups/{name}.html", oob=True, **ctx) for name in oob)


@route(f"{GROUP}/")
def group_page(owner, project, group_id):
    """The group page: header, actions, counts, matrix, history, experiments, polyaxonfile."""
    access = group_access(owner, project)
    page = group_pages.group_page(access, group_id, sort=request.args.get("sort"),
                                  page=page_number())
    return render_template("groups/page.html", **context(access, owner, project, page))


@route(f"{GROUP}/live")
def group_live(owner, project, group_id):
    """Header, counts and history for polling (actions too when the status moved); 286 if final."""
    access = group_access(owner, project)
    page = group_pages.group_summary(access, group_id)
    parts = ["_counts", "_history"] + (["_actions"] if page.changed_since(
        request.args.get("status")) else [])
    body = render_parts(context(access, owner, project, page), "_header", *parts)
    return body, STOP_POLLING if page.group.is_final else 200


@route(f"{GROUP}/experiments")
def group_experiments(owner, project, group_id):
    """One sorted page of the experiments table (the fragment sorting and paging swap)."""
    if not is_htmx():
        return redirect(url_for("ui.group_page", owner=owner, project=project,
                                group_id=group_id, **request.args))
    access = group_access(owner, project)
    page = group_pages.group_experiments(access, group_id, sort=request.args.get("sort"),
                                         page=page_number())
    return render_parts(context(access, owner, project, page), "_experiments")
