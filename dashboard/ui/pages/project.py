"""What the home and project pages show, each from a fixed number of queries."""

from dataclasses import dataclass, field
from datetime import timedelta

from dashboard.errors import ValidationError
from dashboard.models import ExperimentGroup, Project
from dashboard.models.statuses import GROUP_STATUSES
from dashboard.models.types import utcnow
from dashboard.services.group import bookmarks, groups, tallies
from dashboard.services.project import projects

HOME_LIMIT = 10
GROUPS_PER_PAGE = 50

# Progress-bar segments: (css key, words, experiment statuses counted in it), in display order.
SEGMENTS = (
    ("succeeded", "succeeded", ("succeeded",)),
    ("failed", "failed", ("failed",)),
    ("stopped", "stopped", ("stopped",)),
    ("running", "running", ("scheduled", "starting", "running")),
    ("created", "pending", ("created",)),
)


@dataclass(frozen=True)
class Segment:
    """One coloured part of a progress bar."""

    key: str
    label: str
    count: int
    percent: float


@dataclass(frozen=True)
class Progress:
    """Experiments of a group by status, as bar segments (empty ones left out)."""

    total: int
    segments: list

    @classmethod
    def from_counts(cls, counts):
        total = sum(counts.values())
        segments = []
        for key, label, statuses in SEGMENTS:
            count = sum(counts.get(status, 0) for status in statuses)
            if count:
                segments.append(Segment(key, label, count, round(100 * count / total, 2)))
        return cls(total=total, segments=segments)

    @property
    def summary(self):
        """The numbers in words, e.g. "3 succeeded, 2 running, 5 pending"."""
        return ", ".join(f"{s.count} {s.label}" for s in self.segments)


@dataclass(frozen=True)
class GroupRow:
    """A group as a list shows it."""

    group: ExperimentGroup
    project: Project
    bookmarked: bool = False
    progress: Progress | None = None

    @property
    def title(self):
        """The group's name, else its unique name."""
        return self.group.name or f"{self.project.unique_name}.{self.group.id}"

    @property
    def url(self):
        return f"/{self.project.owner.username}/{self.project.name}/groups/{self.group.id}/"

    @property
    def duration(self):
        """Time from start to finish (or to now while unfinished); None before the start."""
        started = self.group.started_at
        if started is None:
            return None
        seconds = ((self.group.finished_at or utcnow()) - started).total_seconds()
        return timedelta(seconds=max(0, int(seconds)))


@dataclass(frozen=True)
class HomePage:
    projects: list
    bookmarked: list
    recent: list


@dataclass(frozen=True)
class ProjectPage:
    """One page of the project's groups, with their experiment counts."""

    rows: list
    count: int
    offset: int
    limit: int
    status: str | None
    statuses: tuple = field(default=GROUP_STATUSES.statuses)

    @property
    def status_options(self):
        """(status, selected) pairs for the filter."""
        return [(status, status == self.status) for status in self.statuses]

    @property
    def previous_offset(self):
        return max(0, self.offset - self.limit) if self.offset > 0 else None

    @property
    def next_offset(self):
        return self.offset + self.limit if self.offset + self.limit < self.count else None

    @property
    def last_shown(self):
        return min(self.offset + self.limit, self.count)


def home_page(*, actor):
    """The projects the actor sees, their bookmarked groups and the latest active groups."""
    marked = bookmarks.bookmarks_of(actor.username, actor=actor, limit=HOME_LIMIT, offset=0)
    recent = groups.recent_groups(actor=actor, limit=HOME_LIMIT)
    return HomePage(
        projects=projects.visible_projects(actor=actor),
        bookmarked=[GroupRow(group, project, True) for group, project, _ in marked.items],
        recent=[GroupRow(group, project) for group, project in recent],
    )


def project_page(access, *, status=None, offset=0):
    """A page of the project's groups (optionally of one status) with progress bars."""
    status = status or None
    if status is not None and status not in GROUP_STATUSES.statuses:
        raise ValidationError(f"'{status}' is not a group status.")
    offset = max(0, offset)
    page = groups.list_groups(
        access, query=f"status:{status}" if status else None, limit=GROUPS_PER_PAGE, offset=offset
    )
    counts = tallies.experiment_counts_of([group.id for group, _ in page.items])
    rows = [
        GroupRow(group, access.project, bool(marked), Progress.from_counts(counts[group.id]))
        for group, marked in page.items
    ]
    return ProjectPage(
        rows=rows, count=page.count, offset=offset, limit=GROUPS_PER_PAGE, status=status
    )
