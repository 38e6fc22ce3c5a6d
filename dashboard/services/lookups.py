"""Loading one group of a project."""

from sqlalchemy import select

from dashboard.errors import NotFound
from dashboard.extensions import db
from dashboard.models import ExperimentGroup


def load_group(access, group_id, *, for_update=False):
    """The group of the project with this id, or NotFound (no query to read it when the access
    holds it already: services.groups.read_state)."""
    held = getattr(access, "group_state", None)
    if held is not None and held.group.id == group_id and not for_update:
        return held.group
    stmt = select(ExperimentGroup).where(
        ExperimentGroup.id == group_id, ExperimentGroup.project_id == access.project.id
    )
    if for_update:
        stmt = stmt.with_for_update(of=ExperimentGroup)
    group = db.session.execute(stmt).scalar_one_or_none()
    if group is None:
        raise NotFound()
    return group
