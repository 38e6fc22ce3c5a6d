"""An experiment's own credentials, and who may act on one experiment.

The runner gives each experiment process a key of its own (`issue_experiment_token`); only its
SHA-256 is stored, on the experiment. The key authenticates as that experiment, for that
experiment's routes only, and expires with it: once the experiment is final it is refused like
any unknown key. User keys and experiment keys differ by prefix, so one lookup decides.
"""

import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from dashboard import permissions
from dashboard.errors import InvalidToken, NotFound
from dashboard.experiment_keys import EXPERIMENT_KEY_PREFIX
from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup, Project, User
from dashboard.models.statuses import EXPERIMENT_STATUSES
from dashboard.models.users import hash_key
from dashboard.services.project.access import project_access, token_and_project
from dashboard.services.user import users


def issue_experiment_token(experiment):
    """A fresh key for the experiment (replacing any earlier one); no commit."""
    key = EXPERIMENT_KEY_PREFIX + secrets.token_hex(20)
    experiment.token_hash = hash_key(key)
    return key


# Built once, like every statement an experiment's report runs.
_EXPERIMENT_BY_TOKEN = select(Experiment).where(Experiment.token_hash == bindparam("token_hash"))
_EXPERIMENT_OF_PROJECT = (
    select(Experiment, ExperimentGroup)
    .join(ExperimentGroup, ExperimentGroup.id == Experiment.group_id)
    .where(
        Experiment.id == bindparam("experiment_id"),
        ExperimentGroup.project_id == bindparam("project_id"),
    )
)
_EXPERIMENT_ROW = (
    select(Experiment, ExperimentGroup, Project)
    .join(ExperimentGroup, ExperimentGroup.id == Experiment.group_id)
    .join(Project, Project.id == ExperimentGroup.project_id)
    .join(User, User.id == Project.owner_id)
    .where(
        User.username == bindparam("owner"),
        Project.name == bindparam("name"),
        Experiment.id == bindparam("experiment_id"),
    )
)


def experiment_for_token(key):
    """The unfinished experiment this key belongs to, or None."""
    if not key.startswith(EXPERIMENT_KEY_PREFIX):
        return None
    experiment = db.session.execute(
        _EXPERIMENT_BY_TOKEN, {"token_hash": hash_key(key)}
    ).scalar_one_or_none()
    if experiment is None or EXPERIMENT_STATUSES.is_final(experiment.status):
        return None
    return experiment


def caller_for_key(key, *, project=None):
    """(user, None, held) for a user key, (None, experiment, None) for a live experiment key;
    else 401. With project=(owner, name), held is (project, the user's ProjectAccess to it or
    None when there is no such project), read in the token's query."""
    if not key.startswith(EXPERIMENT_KEY_PREFIX):
        if project is None:
            return users.user_for_token(key), None, None
        user, held = token_and_project(key, *project)
        return user, None, (project, held)
    experiment = experiment_for_token(key)
    if experiment is None:
        raise InvalidToken()
    return None, experiment, None


@dataclass(frozen=True)
class ExperimentAccess:
    """One experiment with its group and project, and who acts on it.

    `actor` is None when the caller is the experiment itself (its own credentials).
    """

    experiment: Experiment
    group: ExperimentGroup
    project: Project
    actor: User | None
    role: str | None

    @property
    def by_itself(self):
        return self.actor is None

    def require(self, action):
        if self.by_itself:
            permissions.authorize_experiment_credentials(action)
        else:
            permissions.authorize(self.role, action)
        return self


def experiment_access(
    owner, project_name, experiment_id, *, actor, caller=None, action="read", project=None
):
    """Load experiment U/P/id for a user (`actor`) or for the experiment itself (`caller`).

    Another experiment's credentials, or an experiment the user cannot see, are NotFound.
    `project`: the user's ProjectAccess to U/P when it was read already (caller_for_key).
    """
    if caller is not None:
        if caller.id != experiment_id:
            raise NotFound()
        row = db.session.execute(
            _EXPERIMENT_ROW, {"owner": owner, "name": project_name, "experiment_id": experiment_id}
        ).first()
        if row is None:
            raise NotFound()
        access = ExperimentAccess(*row, actor=None, role=None)
    else:
        project = (
            project.require("read")
            if project is not None
            else project_access(owner, project_name, actor=actor)
        )
        row = db.session.execute(
            _EXPERIMENT_OF_PROJECT,
            {"experiment_id": experiment_id, "project_id": project.project.id},
        ).first()
        if row is None:
            raise NotFound()
        access = ExperimentAccess(*row, project.project, actor=actor, role=project.role)
    return access.require(action)
