"""Saving a group's or an experiment's notes from its page: htmx gets the notes section, a plain
form post a redirect back to the page; a refused save (stale, too large) shows the page or the
section again with the newer notes and the writer's own text, never overwriting either."""

from dataclasses import replace

from flask import flash, redirect, render_template, request

from dashboard.services.group import notes
from dashboard.ui import is_htmx, route
from dashboard.ui.experiments import (
    EXPERIMENT,
    experiment_access,
    experiment_context,
    experiment_urls,
)
from dashboard.ui.groups import GROUP, context, group_access, group_urls
from dashboard.ui.pages import experiment as experiment_pages
from dashboard.ui.pages import group as group_pages
from dashboard.ui.pages import notes as notes_pages

# A refused save empties the flash (an earlier "Notes saved."): the section says why, inline.
CLEARED_FLASH = '<div id="flash" role="status" aria-live="polite" hx-swap-oob="true"></div>'


def _answer(status, view, urls, full_page):
    """The section (htmx), back to the page once saved, else the page with the section."""
    if is_htmx():
        body = render_template("_notes.html", notes_view=view, urls=urls)
        if status == 200:
            return body + render_template("_message_inline.html", message="Notes saved."), status
        return body + CLEARED_FLASH, status
    if status == 200:
        flash("Notes saved.", "success")
        return redirect(urls["page"] + "#notes")
    return full_page(view), status


@route(f"{GROUP}/notes", methods=("POST",))
def group_notes(owner, project, group_id):
    """Save the group's notes (member+) over the version the form was opened with."""
    access = group_access(owner, project)
    status, view = notes_pages.saved_or_refused(
        lambda **text: notes.save_group_notes(access, group_id, **text),
        lambda: notes.group_notes(access, group_id),
        request.form,
    )

    def full_page(view):
        page = replace(group_pages.group_page(access, group_id), notes=view)
        return render_template("groups/page.html", **context(owner, project, page))

    return _answer(status, view, group_urls(owner, project, group_id), full_page)


@route(f"{EXPERIMENT}/notes", methods=("POST",))
def experiment_notes(owner, project, group_id, experiment_id):
    """Save the experiment's notes (member+) over the version the form was opened with."""
    access = experiment_access(owner, project, group_id, experiment_id)
    status, view = notes_pages.saved_or_refused(
        lambda **text: notes.save_experiment_notes(access, **text),
        lambda: notes.experiment_notes(access),
        request.form,
    )

    def full_page(view):
        page = replace(experiment_pages.experiment_page(access), notes=view)
        return render_template("experiments/page.html", **experiment_context(owner, project, page))

    urls = experiment_urls(owner, project, group_id, experiment_id)
    return _answer(status, view, urls, full_page)
