"""What the experiment page shows: params, statuses, metric history, log tail, outputs, neighbours.

Six queries (project, experiment, statuses, metrics, neighbours, notes) plus a walk of its
outputs.
"""

from dataclasses import dataclass

from dashboard import permissions
from dashboard.errors import NotFound
from dashboard.models.statuses import EXPERIMENT_STATUSES
from dashboard.services.experiment import experiment_actions, metrics
from dashboard.services.experiment.credentials import experiment_access
from dashboard.services.experiment.experiments import neighbour_ids
from dashboard.services.group import notes
from dashboard.services.plots.plot_values import number
from dashboard.ui.pages import formatting
from dashboard.ui.pages.notes import NotesView

LOG_TAIL = 200
ORIGINS = {"restart": "Restarted from", "resume": "Resumed from", "copy": "Copied from"}


@dataclass(frozen=True)
class ExperimentPage:
    """One experiment with its history, log tail, outputs and its neighbours in the group."""

    access: object
    statuses: list
    metrics: dict  # name -> [(step, value)]
    log: str
    outputs: list
    previous_id: int | None
    next_id: int | None
    notes: NotesView

    @property
    def experiment(self):
        return self.access.experiment

    @property
    def last_metrics(self):
        """[(name, value as the tables print it, the value in full)]."""
        return [
            (name, formatting.display_value(value, 6), formatting.display_value(value))
            for name, value in (self.experiment.last_metric or {}).items()
        ]

    @property
    def group(self):
        return self.access.group

    @property
    def live(self):
        """The experiment is not final yet: its log and status refresh themselves."""
        return not EXPERIMENT_STATUSES.is_final(self.experiment.status)

    @property
    def origin(self):
        """How it continues its original: "Restarted from", ..., "Promoted from" (asha)."""
        return ORIGINS.get(self.experiment.cloning_strategy, "Promoted from")

    @property
    def outputs_size(self):
        """Its outputs' size as the Resume and Copy confirmations say it."""
        size = sum(item["size"] for item in self.outputs)
        more = "+" if len(self.outputs) >= experiment_actions.MAX_OUTPUTS else ""
        return f"{len(self.outputs)}{more} files, {formatting.byte_size(size)}{more}"

    @property
    def allowed(self):
        """What the actor may do to the experiment in its state ("stop" only while it is live)."""
        return permissions.actions(self.access.role, permissions.state_facts(final=not self.live))


def load(owner, project_name, group_id, experiment_id, *, actor, action="read"):
    """The experiment of that group, checked for the action (NotFound if in another group)."""
    access = experiment_access(owner, project_name, experiment_id, actor=actor, action=action)
    if access.group.id != group_id:
        raise NotFound()
    return access


def metric_history(experiment_id):
    """Every reported metric as a series of (report number, value), numbers only."""
    series = {}
    for step, (_, values) in enumerate(metrics.reported_values([experiment_id]), start=1):
        for name, value in (values or {}).items():
            if (value := number(value)) is not None:
                series.setdefault(name, []).append((step, value))
    return series


def experiment_page(access):
    """Everything the experiment page shows."""
    previous_id, next_id = neighbour_ids(access.experiment)
    return ExperimentPage(
        access=access,
        statuses=experiment_actions.status_rows(access.experiment.id),
        metrics=metric_history(access.experiment.id),
        log=experiment_actions.read_log(access, tail=LOG_TAIL),
        outputs=experiment_actions.outputs(access),
        previous_id=previous_id,
        next_id=next_id,
        notes=NotesView(
            notes.experiment_notes(access), permissions.allows(access.role, "write_notes")
        ),
    )


def experiment_log(access):
    """The log tail and whether the experiment is final (polling stops then)."""
    return experiment_actions.read_log(access, tail=LOG_TAIL), EXPERIMENT_STATUSES.is_final(
        access.experiment.status
    )
