"""Status transition tables and the one function that enforces them."""

from dataclasses import dataclass


class IllegalTransition(Exception):
    """A status change that the transition table does not allow."""

    def __init__(self, kind, current, new):
        super().__init__(f"Cannot change {kind} status from {current} to {new}.")
        self.current = current
        self.new = new


@dataclass(frozen=True)
class StatusTable:
    """Which statuses may follow which, and which are final."""

    kind: str
    transitions: dict
    final: frozenset

    @property
    def statuses(self):
        return tuple(self.transitions)

    def is_final(self, status):
        return status in self.final

    def check(self, current, new, *, strict=False):
        """Return True if current -> new is allowed, False if it has already happened, else raise.

        Not strict (workers, the stop operation): the same status again, or a final status
        reached first by someone else (a worker racing a user's stop), counts as done.
        Strict (a status posted by hand): only the table's transitions pass.
        """
        if new in self.transitions.get(current, ()):
            return True
        if not strict and (current == new or (self.is_final(current) and self.is_final(new))):
            return False
        raise IllegalTransition(self.kind, current, new)


GROUP_STATUSES = StatusTable(
    kind="group",
    transitions={
        "created": ("running", "stopping", "stopped", "failed"),
        "running": ("succeeded", "failed", "stopping", "stopped", "paused"),
        # Paused: nothing new starts; what runs runs on (EXTENSIONS.md section 2).
        "paused": ("running", "stopping", "stopped"),
        "stopping": ("stopped",),
        # A final group goes back to running only when it is retried, extended or gets a
        # restarted experiment: services/group/reopen.py, never through this table.
        "succeeded": (),
        "failed": (),
        "stopped": (),
    },
    final=frozenset({"succeeded", "failed", "stopped"}),
)

EXPERIMENT_STATUSES = StatusTable(
    kind="experiment",
    transitions={
        "created": ("scheduled", "stopped", "failed"),
        "scheduled": ("starting", "stopped", "failed"),
        "starting": ("running", "stopped", "failed"),
        "running": ("succeeded", "failed", "stopped"),
        "succeeded": (),
        "failed": (),
        "stopped": (),
    },
    final=frozenset({"succeeded", "failed", "stopped"}),
)

TENSORBOARD_STATUSES = StatusTable(
    kind="tensorboard",
    transitions={
        "created": ("running", "stopped", "failed"),
        "running": ("stopped", "failed"),
        "stopped": (),
        "failed": (),
    },
    final=frozenset({"stopped", "failed"}),
)

RUNNING_EXPERIMENT_STATUSES = ("scheduled", "starting", "running")
