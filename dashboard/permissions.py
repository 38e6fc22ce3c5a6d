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
    # Pause, resume, retry, extend (EXTENSIONS.md section 2).
    "control": "member",
    "tensorboard": "member",
    # Restart, resume or copy an experiment (EXTENSIONS.md section 2).
    "clone_experiment": "member",
    "edit": "member",
    # A group's or an experiment's Markdown notes (never with an experiment's own key).
    "write_notes": "member",
    "archive": "member",
    "report_metrics": "member",
    "delete_group": "admin",
    "post_status": "admin",
    "change_visibility": "admin",
    "manage_members": "admin",
    # A project's webhooks (EXTENSIONS.md section 2).
    "manage_webhooks": "admin",
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


# What a group's or experiment's state allows, beside the role: action -> (the right it needs,
# the fact of the state it needs). The services check the same states when they run.
STATE_ACTIONS = {
    "stop": ("stop", "live"),
    "concurrency": ("edit", "live"),
    "pause": ("control", "status_running"),
    "resume": ("control", "status_paused"),
    "retry": ("control", "continuable"),
    "extend": ("control", "continuable"),
    "archive": ("archive", "unarchived"),
    "restore": ("archive", "archived"),
    "resume_experiment": ("clone_experiment", "final"),  # one writer per outputs folder
    "tensorboard_start": ("tensorboard", "tensorboard_idle"),
    "tensorboard_stop": ("tensorboard", "tensorboard_running"),
    "tensorboard_open": ("read", "tensorboard_running"),
}


# Group statuses in which a search can be given more experiments (retry, extend): all but
# stopping (a final group goes back to running).
CONTINUABLE = ("created", "running", "paused", "succeeded", "failed", "stopped")


def state_facts(*, final, archived=False, tensorboard_status=None, status=None):
    """The facts of a group's or an experiment's state that STATE_ACTIONS depend on (`status`:
    a group's, when its actions depend on it)."""
    facts = {
        "final" if final else "live",
        "archived" if archived else "unarchived",
        "tensorboard_running" if tensorboard_status == "running" else "tensorboard_idle",
    }
    if status is not None:
        facts.add(f"status_{status}")
        if status in CONTINUABLE:
            facts.add("continuable")
    return frozenset(facts)


def actions(role, state=None):
    """Every action the role may perform; given a target's state (state_facts), only what that
    state allows too. Templates ask `"stop" in allowed`, never the role or the status."""
    allowed = frozenset(action for action in ACTIONS if allows(role, action))
    if state is None:
        return allowed
    narrowed = {
        action
        for action, (right, fact) in STATE_ACTIONS.items()
        if fact in state and allows(role, right)
    }
    return (allowed - STATE_ACTIONS.keys()) | narrowed
