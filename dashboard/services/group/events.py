"""Group events for the timeline: who did what to a group, recorded by the services."""

from sqlalchemy import inspect

from dashboard.extensions import db
from dashboard.models import GroupEvent
from dashboard.models.types import utcnow

# The message of an event recorded without one.
DEFAULT_MESSAGES = {
    "stop": "Stopped the group.",
    "stop_pending": "Stopped the group's pending experiments.",
    "edit": "Edited the group.",
    "concurrency": "Changed the concurrency.",
    "archive": "Archived the group.",
    "restore": "Restored the group.",
    "tensorboard_start": "Started TensorBoard.",
    "tensorboard_stop": "Stopped TensorBoard.",
    "bookmark": "Bookmarked the group.",
    "unbookmark": "Removed the bookmark.",
    "status": "Set a status by hand.",
    "pause": "Paused the group.",
    "resume": "Resumed the group.",
}
LABELS = ("name", "description", "tags")


def record(group_id, *, user, kind, message=None, data=None, private=False):
    """Add an event to the group's timeline (no commit: the calling service commits)."""
    db.session.add(
        GroupEvent(
            group_id=group_id,
            user_id=user.id if user is not None else None,
            kind=kind,
            message=message or DEFAULT_MESSAGES.get(kind),
            data=data,
            private=private,
            created_at=utcnow(),
        )
    )


def record_update(group, *, user):
    """Record what an update changed in the group, from its unflushed attribute history."""
    state = inspect(group).attrs
    changed = [name for name in LABELS if state[name].history.has_changes()]
    if changed:
        record(
            group.id,
            user=user,
            kind="edit",
            message=f"Edited {', '.join(changed)}.",
            data={"fields": changed},
        )
    concurrency = state["concurrency"].history
    if concurrency.has_changes() and concurrency.deleted:
        old, new = concurrency.deleted[0], concurrency.added[0]
        record(
            group.id,
            user=user,
            kind="concurrency",
            message=f"Changed the concurrency from {old} to {new}.",
            data={"from": old, "to": new},
        )
