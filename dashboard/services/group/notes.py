"""The Markdown notes of a group and of each of its experiments: read them, save them by version.

An experiment's notes sit with its group's (the same rules, one module). A save names the
version it read; it applies only while that is still the notes' version, in one statement
(UPDATE ... WHERE version = n, or the first INSERT, unique per target), so of two saves from the
same version one wins and the other gets StaleNotes with the text that won: nothing is
overwritten unseen, on SQLite and on PostgreSQL alike.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from dashboard.errors import Conflict, TooLarge, field_error
from dashboard.extensions import db
from dashboard.markdown_html import markdown_html
from dashboard.models import Note, User
from dashboard.models.types import utcnow
from dashboard.services.lookups import load_group

MAX_BYTES = 100 * 1024  # of UTF-8 Markdown
MAX_VERSION = 2**31 - 2  # the column is 32-bit and a save writes version + 1
STALE = (
    "Someone saved these notes since you opened them; their text is shown: "
    "merge your changes and save again."
)


@dataclass(frozen=True)
class Notes:
    """The notes as last saved (version 0, empty, when never saved)."""

    markdown: str = ""
    version: int = 0
    updated_at: datetime | None = None
    updated_by: str | None = None  # the username, None once the user is gone

    @property
    def html(self):
        """The Markdown rendered and sanitised."""
        return markdown_html(self.markdown)


class StaleNotes(Conflict):
    """A save from a version that is no longer the notes' one; `current` holds what won."""

    def __init__(self, current):
        super().__init__(STALE)
        self.current = current

    def body(self):
        return {
            "detail": self.detail,
            "markdown": self.current.markdown,
            "version": self.current.version,
        }


def check_notes(markdown, version):
    """Raise TooLarge past MAX_BYTES, a field error for a version out of range."""
    size = len(markdown.encode("utf-8"))
    if size > MAX_BYTES:
        raise TooLarge(f"Notes are at most {MAX_BYTES:,} bytes of UTF-8 Markdown, not {size:,}.")
    if not 0 <= version <= MAX_VERSION:
        raise field_error("version", f"Ensure this value is between 0 and {MAX_VERSION}.")


def group_notes(access, group_id):
    """The group's notes."""
    access.require("read")
    return _read(Note.group_id, load_group(access, group_id).id)


def save_group_notes(access, group_id, *, markdown, version):
    """Save the group's notes over `version` (the one the writer read); StaleNotes if it moved."""
    access.require("write_notes")
    check_notes(markdown, version)
    group = load_group(access, group_id)
    return _save(Note.group_id, group.id, markdown, version, actor=access.actor)


def experiment_notes(access):
    """The notes of the experiment of an ExperimentAccess."""
    access.require("read")
    return _read(Note.experiment_id, access.experiment.id)


def save_experiment_notes(access, *, markdown, version):
    """Save the experiment's notes over `version`; never with the experiment's own key."""
    access.require("write_notes")
    check_notes(markdown, version)
    return _save(Note.experiment_id, access.experiment.id, markdown, version, actor=access.actor)


def _read(column, target_id):
    row = db.session.execute(
        select(Note.markdown, Note.version, Note.updated_at, User.username)
        .outerjoin(User, User.id == Note.updated_by_id)
        .where(column == target_id)
    ).first()
    return Notes(*row) if row is not None else Notes()


def _save(column, target_id, markdown, version, *, actor):
    saved = Notes(markdown, version + 1, utcnow(), actor.username)
    values = {
        "markdown": markdown,
        "version": saved.version,
        "updated_at": saved.updated_at,
        "updated_by_id": actor.id,
    }
    try:
        if version == 0:  # the first save: the unique target lets one INSERT through
            db.session.execute(insert(Note).values({column.key: target_id, **values}))
            won = True
        else:
            result = db.session.execute(
                update(Note).where(column == target_id, Note.version == version).values(values)
            )
            won = result.rowcount == 1
    except IntegrityError:
        won = False
    if not won:
        db.session.rollback()
        raise StaleNotes(_read(column, target_id))
    db.session.commit()
    return saved
