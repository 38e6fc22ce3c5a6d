"""Projects: read, list, create, members."""

from dataclasses import dataclass

from sqlalchemy import select

from dashboard.errors import NotFound, ValidationError, field_error
from dashboard.extensions import db
from dashboard.models import Membership, Project, User
from dashboard.models.projects import ROLES
from dashboard.names import is_slug
from dashboard.services.listing import paginate
from dashboard.services.project.access import project_access, visible_projects_clause


def list_projects(username, *, actor, limit, offset):
    """A page of the user's projects that the actor can see."""
    stmt = (
        select(Project)
        .join(Project.owner)
        .where(User.username == username, visible_projects_clause(actor))
        .order_by(Project.created_at.desc(), Project.id.desc())
    )
    return paginate(stmt, limit, offset)


def visible_projects(*, actor, limit=200):
    """The projects the actor can see, newest first."""
    stmt = (
        select(Project)
        .where(visible_projects_clause(actor))
        .order_by(Project.created_at.desc(), Project.id.desc())
        .limit(limit)
    )
    return db.session.scalars(stmt).all()


def create_project(*, actor, name, description=None, is_public=True, tags=None):
    """Create a project owned by the actor."""
    if not is_slug(name):
        raise field_error("name", "Enter a valid name: letters, numbers, underscores or hyphens.")
    taken = db.session.execute(
        select(Project.id).where(Project.owner_id == actor.id, Project.name == name)
    ).first()
    if taken:
        raise field_error("name", f"You already have a project named '{name}'.")
    project = Project(
        owner_id=actor.id, name=name, description=description, is_public=is_public, tags=tags
    )
    project.owner = actor
    db.session.add(project)
    db.session.commit()
    return project


def add_member(owner, name, username, role, *, actor):
    """Give a user a role in a project (admins of the project)."""
    if role not in ROLES:
        raise field_error("role", f"'{role}' is not a role (one of: {', '.join(ROLES)}).")
    access = project_access(owner, name, actor=actor, action="manage_members")
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"No user named '{username}'.")
    if user.id == access.project.owner_id:
        raise ValidationError("The owner is always an admin of their project.")
    membership = db.session.execute(
        select(Membership).where(
            Membership.project_id == access.project.id, Membership.user_id == user.id
        )
    ).scalar_one_or_none()
    if membership is None:
        membership = Membership(project_id=access.project.id, user_id=user.id, role=role)
        db.session.add(membership)
    membership.role = role
    db.session.commit()
    return membership


def set_visibility(access, is_public):
    """Make the project public or private (admins of the project)."""
    access.require("change_visibility")
    access.project.is_public = bool(is_public)
    db.session.add(access.project)
    db.session.commit()
    return access.project


@dataclass(frozen=True)
class Member:
    """A user's role in a project; the owner is always an admin and cannot be changed."""

    username: str
    role: str
    is_owner: bool = False

    @property
    def role_options(self):
        """(role, selected) pairs for a role picker."""
        return [(role, role == self.role) for role in ROLES]


def list_members(access):
    """The owner, then the members by username (admins of the project); one query."""
    access.require("manage_members")
    rows = db.session.execute(
        select(User.username, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.project_id == access.project.id, User.id != access.project.owner_id)
        .order_by(User.username)
    ).all()
    owner = Member(username=access.project.owner.username, role="admin", is_owner=True)
    return [owner] + [Member(username=username, role=role) for username, role in rows]


def remove_member(access, username):
    """Take away a user's role in the project (admins); the owner cannot be removed."""
    access.require("manage_members")
    if username == access.project.owner.username:
        raise ValidationError("The owner is always an admin of their project.")
    membership = db.session.execute(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.project_id == access.project.id, User.username == username)
    ).scalar_one_or_none()
    if membership is None:
        raise NotFound(f"'{username}' is not a member of this project.")
    db.session.delete(membership)
    db.session.commit()
