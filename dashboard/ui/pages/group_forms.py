"""The group page's forms read into the fields of a group update; services.group.groups.update_group
checks the fields' rules, so the page, the API and a direct call answer alike."""


def _number(raw):
    """The whole number typed, else the text itself (for the service to refuse by its rule)."""
    text = (raw or "").strip()
    try:
        return int(text)
    except ValueError:
        return text


def concurrency_field(raw):
    """The group update of the UI's concurrency form: the number typed (update_group refuses
    text that is none, or one out of range, by the concurrency rule)."""
    return {"concurrency": _number(raw)}


def extend_count(raw):
    """The Extend form's number (control.extend_group refuses text or one out of range)."""
    return _number(raw)


def edit_fields(*, description, tags):
    """The group update of the UI's edit form: description text, tags as comma-separated text."""
    description = (description or "").strip()
    tag_list = list(dict.fromkeys(t.strip() for t in (tags or "").split(",") if t.strip()))
    return {"description": description or None, "tags": tag_list or None}
