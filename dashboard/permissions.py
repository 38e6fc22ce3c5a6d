"""Who may do what: the one table of CONTRACT.md section 7."""

from dashboard.errors import Forbidden, NotFound

ROLE_RANK = {"viewer": 1, "member": 2, "admin": 3}

# action -> the lowest role allowed to do it
ACTIONS = {
    "read": "viewer",
    "bookmark": "viewer",
    "create_group": "member",
    "upload_repo": "member",
    "stop": "member",
    "tensorboard": "member",
    "edit": "member",
    "archive": "member",
    "report_metrics": "member",
    "delete_group": "admin",
    "post_status": "admin",
    "change_visibility": "admin",
    "manage_members": "admin",
}

# What an experiment's own credentials (the key its process gets) may do, to itself only.
EXPERIMENT_CREDENTIAL_ACTIONS = frozenset({"read", "edit", "report_metrics", "post_status"})


def role_of(project, user, membership_role=None):
    """The user's effective role in the project, or None if they cannot see it."""
    if user is None:
        return None
    if user.is_staff or project.owner_id == user.id:
        return "admin"
    if membership_role:
        return membership_role
    return "viewer" if project.is_public else None


def allows(role, action):
    """Whether a role may perform an action."""
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[ACTIONS[action]]


def authorize(role, action):
    """Raise NotFound if the project is invisible to the role, Forbidden if the right is missing."""
    if role is None:
        raise NotFound()
    if not allows(role, action):
        raise Forbidden()


def authorize_experiment_credentials(action):
    """Raise Forbidden unless an experiment's own credentials may perform the action."""
    if action not in EXPERIMENT_CREDENTIAL_ACTIONS:
        raise Forbidden()


def actions(role):
    """Every action the role may perform (templates ask `"stop" in allowed`)."""
    return frozenset(action for action in ACTIONS if allows(role, action))
