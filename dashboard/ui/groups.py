"""The group page and the fragments it refreshes (polling, experiments table)."""

from urllib.parse import urlencode

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from dashboard import etags
from dashboard.services.experiment import experiment_table
from dashboard.services.group import groups
from dashboard.services.project.access import project_access
from dashboard.services.run import runs
from dashboard.ui import is_htmx, route
from dashboard.ui.pages import group as group_pages
from dashboard.ui.pages import group_table

GROUP = "/<owner>/<project>/groups/<int:group_id>"
ACTIONS = (
    "stop",
    "pause",
    "resume",
    "retry",
    "extend",
    "bookmark",
    "unbookmark",
    "edit",
    "archive",
    "restore",
    "delete",
    "tensorboard_start",
    "tensorboard_stop",
    "concurrency",
    "notes",
)
# htmx answers with status 286 stop the polling element's timer.
STOP_POLLING = 286
# Element ids htmx names in HX-Trigger: the table's poller and its filter form.
TABLE_POLLER, FILTER_FORM = "experiments-live", "table-filter"


def group_access(owner, project, action="read"):
    """The project as the signed-in user sees it (NotFound / Forbidden are raised)."""
    return project_access(owner, project, actor=current_user._get_current_object(), action=action)


def group_urls(owner, project, group_id):
    """The URLs the group's templates link and post to."""
    ids = {"owner": owner, "project": project, "group_id": group_id}
    urls = {
        name: url_for(f"ui.group_{name}", **ids)
        for name in ACTIONS + ("live", "experiments", "experiments_count")
    }
    urls["page"] = url_for("ui.group_page", **ids)
    urls["project"] = url_for("ui.project", owner=owner, project=project)
    for name in ("columns", "objective", "export_csv", "export_json"):
        urls[name] = url_for(f"ui.group_{name}", **ids)
    urls["tensorboard_open"] = url_for("ui.tensorboard_proxy", **ids)
    return urls


def state_args(state, table=None):
    """The query args that reproduce a table state (columns only when not the default ones)."""
    columns = ",".join(table.column_keys) if table is not None and table.customised else None
    if table is None and state.columns:
        columns = ",".join(state.columns)
    pairs = (
        ("sort", state.sort),
        ("query", state.query),
        ("columns", columns),
        ("page", state.page if state.page > 1 else None),
    )
    return {key: value for key, value in pairs if value}


def _state_link(urls, state, table=None):
    args = state_args(state, table)
    query = f"?{urlencode(args)}" if args else ""
    return {
        "href": urls["page"] + query,
        "hx": urls["experiments"] + query,
        "csv": urls["export_csv"] + query,
        "count": urls["experiments_count"] + query,
        "args": args,
    }


def page_links(urls, state, table=None):
    """The pager's links for a view: one per page number, and its count's fragment."""
    return {
        "page": lambda number: _state_link(urls, state.but(page=number), table),
        "count": {"hx": _state_link(urls, state, table)["count"]},
    }


def table_links(urls, table):
    """hrefs (full page, works without JS) and hx-gets (the table fragment) for the table."""

    def for_sort(key):
        return _state_link(urls, table.state.but(sort=table.next_sort(key), page=1), table)

    return {
        **page_links(urls, table.state, table),
        "sort": for_sort,
        "current": _state_link(urls, table.state, table),
        "clear": _state_link(urls, table.state.but(query=None, page=1), table),
    }


def context(owner, project, page):
    """What every group template gets: the page data, the actor's rights and the URLs."""
    urls = group_urls(owner, project, page.group.id)
    links = table_links(urls, page.experiments) if page.experiments else None
    experiment_url = f"{urls['page'].rstrip('/')}/experiments/"  # + id/: the experiment page
    return {
        "page": page,
        "allowed": page.allowed,
        "urls": urls,
        "links": links,
        "owner": owner,
        "project_name": project,
        "experiment_url": experiment_url,
        "unisolated": not runs.experiments_isolated(),
    }


def render_parts(ctx, main, *oob):
    """The fragment for the htmx target, then others swapped out of band (by their ids)."""
    html = render_template(f"groups/{main}.html", oob=False, **ctx)
    return html + "".join(render_template(f"groups/{name}.html", oob=True, **ctx) for name in oob)


@route(f"{GROUP}/")
def group_page(owner, project, group_id):
    """The group page: header, actions, counts, matrix, history, experiments, polyaxonfile."""
    access = group_access(owner, project)
    page = group_pages.group_page(access, group_id, experiment_table.parse_state(request.args))
    status = 400 if page.experiments.error else 200
    return render_template("groups/page.html", **context(owner, project, page)), status


def conditional(owner, project, group_id, build):
    """A polled fragment: read access checked, then 304 when the caller's copy is current (its
    ETag: etags.py), else build(access) with the group's row read once."""
    access = groups.read_state(group_access(owner, project), group_id)
    return etags.answer(access.group_state.stamp, lambda: build(access))


def section(owner, project, group_id, title, html):
    """A section the group page loads after it renders: the fragment, for htmx; for a browser
    without JavaScript (the placeholder links here) a page of its own around it."""
    if is_htmx():
        return html
    urls = {
        "group": url_for("ui.group_page", owner=owner, project=project, group_id=group_id),
        "project": url_for("ui.project", owner=owner, project=project),
    }
    return render_template(
        "groups/section.html",
        title=title,
        owner=owner,
        project_name=project,
        group_id=group_id,
        urls=urls,
        html=Markup(html),
    )


@route(f"{GROUP}/live")
def group_live(owner, project, group_id):
    """Header, counts and history for polling (actions too when the status moved); 286 if final."""
    return conditional(owner, project, group_id, lambda access: _live(access, owner, project))


def _live(access, owner, project):
    page = group_pages.group_summary(access, access.group_state.group.id)
    parts = ["_counts", "_history"] + (
        ["_actions"] if page.changed_since(request.args.get("status")) else []
    )
    body = render_parts(context(owner, project, page), "_header", *parts)
    return body, 200 if page.live else STOP_POLLING


@route(f"{GROUP}/experiments")
def group_experiments(owner, project, group_id):
    """The experiments table (the fragment filtering, sorting, paging and polling swap).

    Its poller gets 286 once the group is final; the filter form's answer sets the page URL.
    """
    if not is_htmx():
        return redirect(
            url_for(
                "ui.group_page", owner=owner, project=project, group_id=group_id, **request.args
            )
        )
    return conditional(
        owner,
        project,
        group_id,
        lambda access: table_response(
            owner,
            project,
            group_pages.group_experiments(
                access, group_id, experiment_table.parse_state(request.args)
            ),
            push=bool(request.args.get("and")),  # a chart's range added: the URL says so
        ),
    )


@route(f"{GROUP}/experiments/count")
def group_experiments_count(owner, project, group_id):
    """How many experiments match the table's filter, and the pager with its last page: what
    a filtered page, read without counting, loads once shown."""
    if not is_htmx():
        return redirect(
            url_for(
                "ui.group_page", owner=owner, project=project, group_id=group_id, **request.args
            )
        )
    counted = group_table.table_count(
        group_access(owner, project), group_id, experiment_table.parse_state(request.args)
    )
    links = page_links(group_urls(owner, project, group_id), counted.state)
    ctx = {"t": counted, "links": links, "final": counted.final}
    return render_template("groups/_table_count.html", **ctx) + render_template(
        "groups/_pager.html", pager_oob=True, **ctx
    )


def table_response(owner, project, page, *oob, push=None):
    """The table fragment (400 with its inline error for a bad query), polling stopped when
    the group is final, and the browser's URL set to the view's page URL when asked."""
    ctx = context(owner, project, page)
    headers = {}
    trigger = request.headers.get("HX-Trigger")
    if push or trigger == FILTER_FORM:
        headers["HX-Push-Url"] = ctx["links"]["current"]["href"]
    status = 400 if page.experiments.error else 200
    if trigger == TABLE_POLLER and not page.live:
        status = STOP_POLLING
    return render_parts(ctx, "_experiments", *oob), status, headers
