"""The notes section of the group and experiment pages: the rendered notes and, for members, the
editor; after a refused save, the writer's own text beside what is stored."""

from dataclasses import dataclass

from markupsafe import Markup

from dashboard.errors import TooLarge, ValidationError, field_error
from dashboard.services.group import notes as notes_service


@dataclass(frozen=True)
class NotesView:
    """What `_notes.html` shows: the stored notes, whether the viewer may edit them, and after
    a refused save the message and the writer's text."""

    notes: notes_service.Notes
    editable: bool
    error: str | None = None
    draft: str | None = None  # the writer's unsaved text, shown beside the newer notes
    text: str | None = None  # what the editor holds, when not the stored Markdown

    @property
    def html(self):
        """The stored notes' HTML, sanitised by the service's renderer."""
        return Markup(self.notes.html)  # markdown_html keeps an allow-list only

    @property
    def editor_text(self):
        return self.notes.markdown if self.text is None else self.text


def form_markdown(form):
    """The notes form's Markdown, its line ends as the API's (\\n)."""
    return (form.get("markdown") or "").replace("\r\n", "\n")


def form_version(form):
    """The version the notes form was opened with (a field error when it is no number)."""
    try:
        return int(form.get("version", ""))
    except ValueError:
        raise field_error(
            "version", "The form's version is missing or not a whole number: reload the page."
        ) from None


def saved_or_refused(save, read, form):
    """Save the form's notes with save(markdown=, version=): (200, the section as saved), or
    after a refused save (stale, too large, a bad version) its status and the section showing
    why. A stale save shows the newer notes in the editor and the writer's text beside them;
    another keeps the writer's text in the editor. Only writers get here: the editor shows."""
    markdown = form_markdown(form)
    try:
        return 200, NotesView(save(markdown=markdown, version=form_version(form)), True)
    except notes_service.StaleNotes as exc:
        return exc.status_code, NotesView(exc.current, True, error=exc.detail, draft=markdown)
    except (TooLarge, ValidationError) as exc:
        return exc.status_code, NotesView(read(), True, error=_message(exc), text=markdown)


def _message(exc):
    fields = exc.fields if isinstance(exc, ValidationError) and exc.fields else {}
    return " ".join(message for messages in fields.values() for message in messages) or exc.detail
