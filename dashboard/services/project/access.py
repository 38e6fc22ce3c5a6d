"""Loading a project together with the actor's role, in one query."""

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, exists, or_, select, true
from sqlalchemy.orm import aliased, contains_eager

from dashboard import permissions
from dashboard.errors import NotFound
from dashboard.extensions import db
from dashboard.models import ApiToken, Membership, Project, User
from dashboard.models.users import hash_key
from dashboard.services.user import users


@dataclass(frozen=True)
class ProjectAccess:
    """A project and what the actor may do in it."""

    project: Project
    actor: User
    role: str
    # One group's row and stamp, once read (services.group.groups.read_state): reused, not re-read.
    group_state: object = None

    def require(self, action):
        permissions.authorize(self.role, action)
        return self

    @property
    def allowed(self):
        return permissions.actions(self.role)


# Built once: nearly every request runs it.
_PROJECT_WITH_ROLE = (
    select(Project, Membership.role)
    .join(Project.owner)
    .options(contains_eager(Project.owner))
    .outerjoin(
        Membership,
        and_(Membership.project_id == Project.id, Membership.user_id == bindparam("actor_id")),
    )
    .where(User.username == bindparam("owner"), Project.name == bindparam("name"))
)


_OWNER = aliased(User)
# A token call on a project's route: the token (its user joined) and that project with the
# user's role, in one query (the project's columns are NULL when there is no such project).
_TOKEN_AND_PROJECT = (
    select(ApiToken, Project, Membership.role)
    .outerjoin_from(
        ApiToken,
        Project,
        and_(
            Project.name == bindparam("name"),
            Project.owner_id
            == select(User.id).where(User.username == bindparam("owner")).scalar_subquery(),
        ),
    )
    .outerjoin_from(Project, _OWNER, _OWNER.id == Project.owner_id)
    .outerjoin_from(
        Project,
        Membership,
        and_(Membership.project_id == Project.id, Membership.user_id == ApiToken.user_id),
    )
    .options(contains_eager(Project.owner.of_type(_OWNER)))
    .where(ApiToken.key_hash == bindparam("key_hash"))
)


def token_and_project(key, owner, name):
    """(the token's user, its access to project owner/name, unchecked: None when there is no
    such project) in one query; InvalidToken unless the token is live."""
    row = db.session.execute(
        _TOKEN_AND_PROJECT, {"key_hash": hash_key(key), "owner": owner, "name": name}
    ).one_or_none()
    token, project, member_role = row or (None, None, None)
    user = users.user_of_token(token)
    if project is None:
        return user, None
    return user, ProjectAccess(
        project=project, actor=user, role=permissions.role_of(project, user, member_role)
    )


def project_access(owner, name, *, actor, action="read"):
    """Load U/P for the actor and check the action; invisible projects are NotFound."""
    row = db.session.execute(
        _PROJECT_WITH_ROLE, {"actor_id": actor.id if actor else -1, "owner": owner, "name": name}
    ).one_or_none()
    if row is None:
        raise NotFound()
    project, member_role = row
    role = permissions.role_of(project, actor, member_role)
    permissions.authorize(role, action)
    return ProjectAccess(project=project, actor=actor, role=role)


def visible_projects_clause(actor):
    """A SQL condition selecting the projects the actor can see."""
    if actor.is_staff:
        return true()
    return or_(
        Project.is_public,
        Project.owner_id == actor.id,
        exists().where(Membership.project_id == Project.id, Membership.user_id == actor.id),
    )
