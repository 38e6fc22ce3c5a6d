"""What the API's and the UI's permission matrices share (CONTRACT.md section 7).

The actors, the outcome tables, the route row both tables extend, the test cases built from a
table, and the world each case runs in: users for every role and a public and a private project.
"""

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Bookmark, Experiment
from tests.factories import add_member, grid_yml, make_group, make_project, make_user

ACTORS = ("anonymous", "outsider", "viewer", "member", "admin", "owner", "staff")
PUBLIC, PRIVATE, NO_PROJECT = "public", "private", None

# Expected outcome per actor, in ACTORS order; OK is the route's own success status.
# A signed-in outsider is a viewer of a public project and sees nothing of a private one (404).
OK = "ok"
# Columns: anonymous, outsider, viewer, member, admin, owner, staff.
ANYONE = {NO_PROJECT: (OK, OK, OK, OK, OK, OK, OK)}
SIGNED_IN = {NO_PROJECT: (401, OK, OK, OK, OK, OK, OK)}
VIEWER_UP = {
    PUBLIC: (401, OK, OK, OK, OK, OK, OK),
    PRIVATE: (401, 404, OK, OK, OK, OK, OK),
}
MEMBER_UP = {
    PUBLIC: (401, 403, 403, OK, OK, OK, OK),
    PRIVATE: (401, 404, 403, OK, OK, OK, OK),
}
ADMIN_UP = {
    PUBLIC: (401, 403, 403, 403, OK, OK, OK),
    PRIVATE: (401, 404, 403, 403, OK, OK, OK),
}


@dataclass(frozen=True)
class Route:
    """One route: method, url_map pattern, the section 7 action, success status, outcomes.

    Each matrix extends it with what its transport sends.
    """

    method: str
    pattern: str
    action: str
    success: int
    outcomes: dict
    query: str = ""  # appended to the URL; {id} is the group id
    bookmarked_first: bool = False  # the actor bookmarks the group before the call

    def outcome(self, actor, scope):
        """OK or the error status the table gives this actor."""
        return self.outcomes[scope][ACTORS.index(actor)]

    def expected(self, actor, scope):
        """The status code this actor gets."""
        outcome = self.outcome(actor, scope)
        return self.success if outcome == OK else outcome


def cases(routes, label):
    """A pytest param (row, actor, scope) per row x scope x actor, id `label(row)-actor-scope`."""
    return [
        pytest.param(row, actor, scope,
                     id=f"{label(row)}-{actor}" + (f"-{scope}" if scope else ""))
        for row in routes
        for scope in row.outcomes
        for actor in ACTORS
    ]


def world():
    """Users for every role, a public and a private project of `owner`, a group in each."""
    users = {name: make_user(name) for name in ("owner", "outsider", "viewer", "member", "admin")}
    users["staff"] = make_user("staff", staff=True)
    projects = {
        PUBLIC: make_project(users["owner"], "open", public=True),
        PRIVATE: make_project(users["owner"], "secret", public=False),
    }
    for project in projects.values():
        for role in ("viewer", "member", "admin"):
            add_member(project, users[role], role)
    groups = {scope: make_group(p, content=grid_yml(1)) for scope, p in projects.items()}
    return users, projects, groups


@dataclass(frozen=True)
class Case:
    """The world of one case and the actor's place in it (user, project, group may be None)."""

    users: dict
    user: object
    project: object
    group: object


def case_world(row, actor, scope):
    """The world for one case, with the actor's bookmark in place when the row wants one."""
    users, projects, groups = world()
    case = Case(users, users.get(actor), projects.get(scope), groups.get(scope))
    if row.bookmarked_first and case.user is not None:
        db.session.add(Bookmark(user_id=case.user.id, group_id=case.group.id))
        db.session.commit()
    return case


def first_experiment(group):
    """The id of the group's first experiment."""
    return db.session.scalar(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id))
