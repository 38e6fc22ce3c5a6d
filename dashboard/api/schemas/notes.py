"""The Markdown notes of a group or an experiment."""

from pydantic import Field

from dashboard.api.schemas.base import Request, Response, Timestamp
from dashboard.services.group import notes


class NotesIn(Request):
    markdown: str = Field(
        description=f"At most {notes.MAX_BYTES:,} bytes of UTF-8 (more: 413).",
    )
    version: int = Field(
        ge=0,
        le=notes.MAX_VERSION,
        description="The version last read (0: no notes yet); another one gets 409.",
    )


class NotesOut(Response):
    markdown: str
    html: str = Field(description="The Markdown rendered and sanitised.")
    version: int = Field(description="Counts the saves: 0 while there are no notes.")
    updated_at: Timestamp | None
    updated_by: str | None


class NotesConflictOut(Response):
    """A save from a version that is no longer current: the notes that won."""

    detail: str
    markdown: str
    version: int
