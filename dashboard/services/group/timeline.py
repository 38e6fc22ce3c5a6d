"""A group's timeline: its status rows, its experiments' status rows and its events, merged.

One ordered UNION ALL in SQL, paged there, so a group of 10,000 experiments costs the same
three queries (the group, the count, the page) as a small one.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, String, cast, func, literal, null, or_, select, union_all

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentStatus, GroupEvent, GroupStatus, User
from dashboard.services.listing import Page
from dashboard.services.lookups import load_group

# Ties in time keep this order: the group's own status first, then experiments, then actions.
SOURCES = ("group_status", "experiment_status", "action")


@dataclass(frozen=True)
class TimelineItem:
    """One line of the timeline."""

    time: datetime
    kind: str
    source: str
    user: str | None
    message: str | None
    experiment: int | None
    status: str | None


def _merged(group_id, actor_id):
    group_rows = select(
        GroupStatus.created_at.label("time"),
        literal("status", String).label("kind"),
        literal(0, Integer).label("rank"),
        cast(null(), Integer).label("user_id"),
        GroupStatus.message.label("message"),
        cast(null(), Integer).label("experiment"),
        GroupStatus.status.label("status"),
        GroupStatus.id.label("row_id"),
    ).where(GroupStatus.group_id == group_id)
    experiment_rows = (
        select(
            ExperimentStatus.created_at,
            literal("status", String),
            literal(1, Integer),
            cast(null(), Integer),
            ExperimentStatus.message,
            ExperimentStatus.experiment_id,
            ExperimentStatus.status,
            ExperimentStatus.id,
        )
        .join(Experiment, Experiment.id == ExperimentStatus.experiment_id)
        .where(Experiment.group_id == group_id)
    )
    action_rows = select(
        GroupEvent.created_at,
        GroupEvent.kind,
        literal(2, Integer),
        GroupEvent.user_id,
        GroupEvent.message,
        cast(null(), Integer),
        cast(null(), String),
        GroupEvent.id,
    ).where(
        GroupEvent.group_id == group_id,
        or_(GroupEvent.private.is_(False), GroupEvent.user_id == actor_id),
    )
    return union_all(group_rows, experiment_rows, action_rows).subquery("timeline")


def group_timeline(access, group_id, *, limit, offset, newest_first=False):
    """A page of the group's timeline (oldest first unless newest_first); private events are
    shown only to their user."""
    group = load_group(access, group_id)
    merged = _merged(group.id, access.actor.id if access.actor else -1)
    count = db.session.scalar(select(func.count()).select_from(merged))
    order = [merged.c.time, merged.c.rank, merged.c.row_id]
    if newest_first:
        order = [column.desc() for column in order]
    rows = db.session.execute(
        select(merged, User.username)
        .outerjoin(User, User.id == merged.c.user_id)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    ).all()
    items = [
        TimelineItem(
            time=row.time,
            kind=row.kind,
            source=SOURCES[row.rank],
            user=row.username,
            message=row.message,
            experiment=row.experiment,
            status=row.status,
        )
        for row in rows
    ]
    return Page(count=count, items=items, limit=limit, offset=offset)
