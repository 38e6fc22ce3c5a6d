"""The clone page: the new-group form pre-filled with a group's polyaxonfile, or with it narrowed
around the group's best experiment ("Search around best")."""

from dataclasses import dataclass, field

from dashboard.errors import ValidationError, field_error
from dashboard.ids import MAX_ID
from dashboard.services.group import clones, groups


@dataclass(frozen=True)
class CloneFields:
    """What the clone page adds to the new-group form, as sent: the id of the group it copies
    (a hidden field) and the clone's name; both empty on the project page."""

    cloned_from: str = ""
    name: str = ""

    @classmethod
    def of(cls, form):
        return cls(form.get("cloned_from", "").strip(), form.get("name", "").strip())

    @property
    def fields(self):
        """create_group's keywords: none for a plain new group (400 for a bad id)."""
        if not self.cloned_from:
            return {}
        text = self.cloned_from
        if not (text.isascii() and text.isdigit() and len(text) <= 10 and 0 < int(text) <= MAX_ID):
            raise field_error("cloned_from", "The group cloned is not a group id.")
        return {"cloned_from": int(text), "name": self.name or None}


@dataclass(frozen=True)
class CloneForm:
    """What the clone page shows: the group cloned, the polyaxonfile to submit (None when none
    could be made), and for a search around the best, the spread, the notes and errors."""

    project: object
    group: object
    content: str | None
    around_best: bool = False
    spread: str = ""
    notes: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)

    @property
    def title(self):
        name = self.group.name or f"group {self.group.id}"
        return f"Search around the best of {name}" if self.around_best else f"Clone {name}"


def clone_form(access, group_id):
    """The new-group form holding the group's own polyaxonfile."""
    group = groups.get_group(access, group_id).group
    return CloneForm(project=access.project, group=group, content=group.content)


def around_best_form(access, group_id, spread):
    """The new-group form holding the group's polyaxonfile narrowed around its best experiment
    by `spread` (the text asked, default 0.25); why not, inline, when it cannot be."""
    try:
        found = clones.around_best(access, group_id, spread)
    except ValidationError as exc:
        return CloneForm(
            project=access.project,
            group=groups.get_group(access, group_id).group,
            content=None,
            around_best=True,
            spread=(spread or "")[:64],
            errors=exc.fields or {"group": [exc.detail]},
        )
    return CloneForm(
        project=access.project,
        group=found.group,
        content=found.content,
        around_best=True,
        spread=f"{found.spread:g}",
        notes=found.notes,
    )
