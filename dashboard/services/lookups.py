"""Loading a project's groups and experiments by id."""

from sqlalchemy import select

from dashboard.errors import NotFound
from dashboard.extensions import db
from dashboard.models import ExperimentGroup


def load_group(access, group_id, *, for_update=False):
    """The group of the project with this id, or NotFound (no query to read it when the access
    holds it already: services.group.groups.read_state).

    for_update locks its row until the commit, against other changes of the group but not
    against rows that reference it (FOR NO KEY UPDATE on PostgreSQL): a report holds its
    experiment and then writes rows that reference the group, so a lock that barred those
    writes would wait for the report while the report waited for it, whenever the holder then
    touches that experiment (stop, delete). Every lock of a group row takes this mode."""
    held = getattr(access, "group_state", None)
    if held is not None and held.group.id == group_id and not for_update:
        return held.group
    stmt = select(ExperimentGroup).where(
        ExperimentGroup.id == group_id, ExperimentGroup.project_id == access.project.id
    )
    if for_update:
        stmt = stmt.with_for_update(of=ExperimentGroup, key_share=True)
    group = db.session.execute(stmt).scalar_one_or_none()
    if group is None:
        raise NotFound()
    return group


def in_order_found(ids, found, what):
    """The rows of `found` ({id: row}) in the ids' order; NotFound names the missing ids."""
    missing = [i for i in ids if i not in found]
    if missing:
        names = ", ".join(str(i) for i in missing)
        raise NotFound(f"No {what} {names} in this project.")
    return [found[i] for i in ids]
