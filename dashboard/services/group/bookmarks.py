"""Bookmarks: one per user and group."""

from sqlalchemy import delete, exists, false, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from dashboard.errors import NotFound
from dashboard.extensions import db
from dashboard.models import Bookmark, ExperimentGroup, Project, User
from dashboard.models.types import utcnow
from dashboard.services.group import events
from dashboard.services.listing import paginate
from dashboard.services.lookups import load_group
from dashboard.services.project.access import visible_projects_clause


def bookmark_group(access, group_id):
    """Bookmark the group for the actor; idempotent, safe against concurrent clicks."""
    access.require("bookmark")
    group = load_group(access, group_id)
    mine = (Bookmark.user_id == access.actor.id, Bookmark.group_id == group.id)
    already = db.session.execute(select(Bookmark.id).where(*mine)).first()
    if already:
        return group
    try:
        events.record(group.id, user=access.actor, kind="bookmark", private=True)
        db.session.execute(
            insert(Bookmark).values(user_id=access.actor.id, group_id=group.id, created_at=utcnow())
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
    return group


def unbookmark_group(access, group_id):
    """Remove the actor's bookmark of the group; NotFound if there was none."""
    access.require("bookmark")
    group = load_group(access, group_id)
    result = db.session.execute(
        delete(Bookmark).where(Bookmark.user_id == access.actor.id, Bookmark.group_id == group.id)
    )
    if not result.rowcount:
        db.session.rollback()
        raise NotFound("You have not bookmarked this group.")
    events.record(group.id, user=access.actor, kind="unbookmark", private=True)
    db.session.commit()
    return group


def bookmarks_of(username, *, actor, limit, offset):
    """A page of (group, project, bookmarked-by-actor) rows the user bookmarked.

    Only groups the actor can see; another user's list is empty unless the actor is staff.
    """
    owner = aliased(User)
    actors = aliased(Bookmark)
    by_actor = exists().where(actors.group_id == ExperimentGroup.id, actors.user_id == actor.id)
    stmt = (
        select(ExperimentGroup, Project, by_actor)
        .join(Bookmark, Bookmark.group_id == ExperimentGroup.id)
        .join(owner, owner.id == Bookmark.user_id)
        .join(Project, Project.id == ExperimentGroup.project_id)
        .where(owner.username == username, visible_projects_clause(actor))
        .order_by(Bookmark.created_at.desc(), Bookmark.id.desc())
    )
    if username != actor.username and not actor.is_staff:
        stmt = stmt.where(false())
    return paginate(stmt, limit, offset)
