"""What the API's and the UI's permission matrices share (CONTRACT.md section 7).

The actors, the outcome tables, the route row both tables extend, the test cases built from a
table, and the world each case runs in: users for every role and a public and a private project.
"""

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Bookmark, Experiment, Project, TensorboardJob, Webhook
from tests.factories import (
    add_member,
    finish,
    grid_yml,
    make_group,
    make_project,
    make_user,
    move_experiments,
    start_group,
)
from tests.support.webhooks import add_webhook

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
    prepare: object = None  # a function of the group, called before: a state the route needs

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
        pytest.param(row, actor, scope, id=f"{label(row)}-{actor}" + (f"-{scope}" if scope else ""))
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
    if row.prepare is not None and case.group is not None:
        row.prepare(case.group)
    return case


def first_experiment(group):
    """The id of the group's first experiment."""
    return db.session.scalar(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    )


# States a route needs before it can succeed (Route.prepare), shared by the API and UI tables.


def running(group):
    start_group(group)


def paused(group):
    start_group(group)
    group.status = "paused"
    db.session.commit()


def with_a_failed_experiment(group):
    start_group(group)
    move_experiments(group, 1, "failed")


def with_combinations_left(group):
    """The world's grid of one, as if its polyaxonfile had two more combinations to run."""
    group.content = grid_yml(3).replace("  matrix:", "  grid_search: {n_experiments: 1}\n  matrix:")
    db.session.commit()


def with_a_best(group):
    """The group finished, its experiments with a loss and its objective to minimise it."""
    start_group(group)
    finish(group)
    group.objective = {"metric": "loss", "optimization": "minimize"}
    db.session.commit()


def with_a_webhook(group):
    """A webhook in the group's project (the route's <int:webhook_id> is webhook_of it)."""
    add_webhook(db.session.get(Project, group.project_id), "https://hooks.example.com/x")


def webhook_of(project):
    """The id of the project's first webhook."""
    return db.session.scalar(
        select(Webhook.id).where(Webhook.project_id == project.id).order_by(Webhook.id)
    )


def with_a_selection(group):
    """A stopped TensorBoard over the group's first experiment (the route's
    <int:tensorboard_id> is tensorboard_of its project)."""
    owner = db.session.get(Project, group.project_id).owner_id
    db.session.add(
        TensorboardJob(
            project_id=group.project_id,
            user_id=owner,
            experiment_ids=[first_experiment(group)],
            status="stopped",
        )
    )
    db.session.commit()


def tensorboard_of(project):
    """The id of the project's first TensorBoard job."""
    return db.session.scalar(
        select(TensorboardJob.id)
        .where(TensorboardJob.project_id == project.id)
        .order_by(TensorboardJob.id)
    )


def with_selection_ids(data, group):
    """The row's body or form with `{xp}` (the ids of a selection) as the group's first
    experiment: a list for the API's JSON, text for the UI's form."""
    if not isinstance(data, dict) or "{xp}" not in str(data.get("experiments")):
        return data
    experiment = first_experiment(group)
    ids = [experiment] if isinstance(data["experiments"], list) else str(experiment)
    return data | {"experiments": ids}
