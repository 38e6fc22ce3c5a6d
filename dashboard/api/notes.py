"""A group's Markdown notes (an experiment's are beside its other routes): read, save by version."""

from dashboard.api import route
from dashboard.api.helpers import access, dump, parse
from dashboard.api.schemas.notes import NotesConflictOut, NotesIn, NotesOut
from dashboard.services.group import notes

NOTES = "/<username>/<project_name>/groups/<int:group_id>/notes/"
# What a save may answer beyond its notes: a stale version, and Markdown past the limit.
SAVE_ERRORS = {"errors": (409, 413), "error_models": {409: NotesConflictOut}}


def notes_out(found):
    """The API's shape of a Notes (its fields, and its HTML rendered)."""
    return NotesOut.model_validate(found)


@route(NOTES, ["GET"], out=NotesOut)
def get_group_notes(username, project_name, group_id):
    """The group's notes: Markdown, its sanitised HTML, version (0: none yet)."""
    return dump(notes_out(notes.group_notes(access(username, project_name), group_id)))


@route(NOTES, ["PUT"], out=NotesOut, body=NotesIn, **SAVE_ERRORS)
def put_group_notes(username, project_name, group_id):
    """Save the group's notes over the version last read (409 with the newer notes if stale)."""
    project = access(username, project_name, "write_notes")
    body = parse(NotesIn)
    saved = notes.save_group_notes(project, group_id, markdown=body.markdown, version=body.version)
    return dump(notes_out(saved))
