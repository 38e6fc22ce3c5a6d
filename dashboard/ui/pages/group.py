"""What the group page shows, gathered in a constant number of queries whatever the group's size."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dashboard import permissions
from dashboard.hptuning.extension import NOT_EXTENDABLE
from dashboard.hptuning.resources import gpus_requested
from dashboard.models.statuses import EXPERIMENT_STATUSES, RUNNING_EXPERIMENT_STATUSES
from dashboard.models.types import utcnow
from dashboard.services.experiment.experiment_table import TableState
from dashboard.services.group import groups, notes, statuses, tensorboards
from dashboard.services.group import objective as objective_service
from dashboard.services.run.placement import largest_worker_gpus
from dashboard.ui.pages.formatting import duration_text, plural, resources_text, span
from dashboard.ui.pages.group_table import ExperimentTable, experiments_table
from dashboard.ui.pages.matrix import MatrixView, matrix_view
from dashboard.ui.pages.notes import NotesView


@dataclass(frozen=True)
class StatusSpan:
    """One status row and how long the group stayed in it (None for a final status)."""

    status: str
    message: str | None
    created_at: datetime
    duration: timedelta | None
    ongoing: bool

    @property
    def duration_text(self):
        if self.duration is None:
            return "final"
        return duration_text(self.duration) + (" so far" if self.ongoing else "")


@dataclass(frozen=True)
class CountSegment:
    """The experiments in one status: their number and share of the group."""

    status: str
    count: int
    percent: float


@dataclass(frozen=True)
class StopPreview:
    """What Stop and Stop pending would change, in words for their confirmations."""

    running: int
    pending: int

    @property
    def all_text(self):
        running, pending = self.running, self.pending
        if running and pending:
            total = plural(running + pending)
            return f"{running} running and {pending} pending {total} will be stopped."
        if running or pending:
            count, kind = (running, "running") if running else (pending, "pending")
            return f"{count} {kind} {plural(count)} will be stopped."
        return "No experiment is running or pending; the group will be marked stopped."

    @property
    def pending_text(self):
        pending, running = self.pending, self.running
        stopped = (
            f"{pending} pending {plural(pending)} will be stopped"
            if pending
            else "No pending experiment to stop"
        )
        if running:
            return f"{stopped}, {running} running will finish."
        return f"{stopped}."


@dataclass(frozen=True)
class GroupPage:
    """Everything the group page (or one of its fragments) shows."""

    detail: groups.GroupDetail
    now: datetime
    history: list = field(default_factory=list)
    matrix: MatrixView | None = None
    experiments: ExperimentTable | None = None
    tensorboard: object = None  # the latest TensorBoard job, if the group ever had one
    objective: objective_service.Objective | None = None
    best: objective_service.Best | None = None
    role: str | None = None  # the actor's role in the project
    largest_gpus: int | None = None  # the most GPUs a live worker has (read when it matters)
    notes: NotesView | None = None  # the group's notes (the whole page only)

    @property
    def group(self):
        return self.detail.group

    @property
    def live(self):
        """The group is not final yet: its page refreshes itself."""
        return not self.group.is_final

    @property
    def allowed(self):
        """What the actor may do to the group in its state (templates ask `"stop" in allowed`)."""
        state = permissions.state_facts(
            final=self.group.is_final,
            archived=self.group.is_archived,
            tensorboard_status=self.detail.tensorboard_status,
            status=self.group.status,
        )
        return permissions.actions(self.role, state)

    @property
    def total(self):
        return sum(self.detail.counts.values())

    @property
    def delete_text(self):
        """The Delete button's confirmation: what deleting the group takes with it."""
        return (
            f"Delete this group and its {self.total} {plural(self.total)}? This cannot be undone."
        )

    @property
    def counts(self):
        """Every experiment status in lifecycle order, with its count and share."""
        total = self.total
        return [
            CountSegment(
                status,
                self.detail.counts.get(status, 0),
                100.0 * self.detail.counts.get(status, 0) / total if total else 0.0,
            )
            for status in EXPERIMENT_STATUSES.statuses
        ]

    @property
    def stop_preview(self):
        return StopPreview(
            running=self.detail.count(*RUNNING_EXPERIMENT_STATUSES),
            pending=self.detail.count("created"),
        )

    @property
    def held_text(self):
        """What a paused group holds (None unless paused): its pending experiments and, for a
        search that suggests as it goes, its next suggestions; what runs runs on."""
        if self.group.status != "paused":
            return None
        pending = self.detail.count("created")
        running = self.detail.count(*RUNNING_EXPERIMENT_STATUSES)
        held = [f"{pending} pending {plural(pending)} held"]
        if self.group.search_algorithm not in ("grid", "random"):
            held.append("no new suggestions or promotions")
        runs_on = "runs on" if running == 1 else "run on"
        return (
            f"Paused: {' and '.join(held)}; {running} running {plural(running)} {runs_on}. "
            "Resume to go on."
        )

    @property
    def resources_text(self):
        """What each experiment asks (environment.resources), None: nothing."""
        return resources_text(self.group.resources)

    @property
    def gpus_text(self):
        """What its pending experiments wait for when they ask GPUs (None otherwise)."""
        need = gpus_requested(self.group.resources)
        if self.largest_gpus is None or not need:
            return None
        asks = f"{need} {plural(need, 'GPU')}"
        if not self.largest_gpus:
            return f"waiting: needs {asks}, no live worker declares GPUs"
        if self.largest_gpus < need:
            return f"waiting: needs {asks}, the largest worker has {self.largest_gpus}"
        pending = self.detail.count("created")
        return f"{pending} pending {plural(pending)} waiting for {asks} free each"

    @property
    def retry_count(self):
        """Failed and stopped experiments, for the Retry button's confirmation (those retried
        already are skipped by the retry itself)."""
        return self.detail.count("failed", "stopped")

    @property
    def extendable(self):
        """Whether the search can be given more experiments (hyperband's brackets are fixed)."""
        return "extend" in self.allowed and self.group.search_algorithm not in NOT_EXTENDABLE

    @property
    def duration(self):
        group = self.group
        return span(group.started_at, group.finished_at or (None if group.is_final else self.now))

    @property
    def duration_text(self):
        return duration_text(self.duration)

    def changed_since(self, status):
        """Whether the group's status differs from the one a poller last saw."""
        return status != self.group.status


def group_page(access, group_id, state=None):
    """The whole page: detail, history, matrix, the asked view of the experiments, the best.

    Seven queries: the group, its counts, its history, its value names, the saved columns with
    the best experiment, one page of experiments (with its count), its notes.
    """
    detail, now = groups.get_group(access, group_id), utcnow()
    table, objective, best = experiments_table(access, detail, state or TableState())
    return GroupPage(
        detail=detail,
        role=access.role,
        now=now,
        history=_history(detail.group, now),
        matrix=matrix_view(groups.hptuning_of(detail.group), detail.group.search_algorithm),
        experiments=table,
        tensorboard=_tensorboard(detail),
        objective=objective,
        best=best,
        largest_gpus=_largest_gpus(detail),
        notes=NotesView(notes.group_notes(access, group_id), "write_notes" in access.allowed),
    )


def _with_best(detail):
    objective = objective_service.objective_of(detail.group)
    return {
        "objective": objective,
        "best": objective_service.best_experiment(detail.group, objective),
    }


def group_summary(access, group_id):
    """Header, actions, counts and history (what polling and actions refresh): four queries
    (five once the group has had a TensorBoard)."""
    detail, now = groups.get_group(access, group_id), utcnow()
    return GroupPage(
        detail=detail,
        role=access.role,
        now=now,
        history=_history(detail.group, now),
        tensorboard=_tensorboard(detail),
        largest_gpus=_largest_gpus(detail),
        **_with_best(detail),
    )


def group_with_matrix(access, group_id):
    """Header, counts and the hptuning card (what a concurrency change refreshes)."""
    detail, now = groups.get_group(access, group_id), utcnow()
    return GroupPage(
        detail=detail,
        role=access.role,
        now=now,
        history=_history(detail.group, now),
        matrix=matrix_view(groups.hptuning_of(detail.group), detail.group.search_algorithm),
        tensorboard=_tensorboard(detail),
        **_with_best(detail),
    )


def group_experiments(access, group_id, state=None):
    """The experiments table with the best experiment (filtering, sorting, paging swap it)."""
    detail = groups.get_group(access, group_id)
    table, objective, best = experiments_table(access, detail, state or TableState())
    return GroupPage(
        detail=detail,
        role=access.role,
        now=utcnow(),
        experiments=table,
        objective=objective,
        best=best,
    )


def _largest_gpus(detail):
    # One more query only while experiments asking GPUs wait in a group that may run them.
    waiting = gpus_requested(detail.group.resources) and detail.count("created")
    return largest_worker_gpus() if waiting and not detail.group.is_final else None


def _tensorboard(detail):
    # One more query only for groups that ever had a TensorBoard.
    return tensorboards.latest_job(detail.group.id) if detail.tensorboard_status else None


def _history(group, now):
    rows = statuses.group_status_rows(group.id)
    # Each status lasts until the next one; the last until now, or it is the final one.
    ends = [row.created_at for row in rows[1:]] + [None if group.is_final else now]
    return [
        StatusSpan(
            row.status,
            row.message,
            row.created_at,
            None if end is None else end - row.created_at,
            ongoing=end is now,
        )
        for row, end in zip(rows, ends, strict=True)
    ]
