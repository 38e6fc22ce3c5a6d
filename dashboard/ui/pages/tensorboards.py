"""The project page's TensorBoards: the running ones, newest first, each with what it serves,
where it opens and where it stops; from a fixed number of queries whatever their number."""

from dataclasses import dataclass

from flask import url_for

from dashboard.models import TensorboardJob
from dashboard.services.group.tensorboards import job_url
from dashboard.services.project import tensorboards

SHOWN = 20


@dataclass(frozen=True)
class Served:
    """One experiment of a selection: its id, and its page unless it was deleted since."""

    id: int
    url: str | None


@dataclass(frozen=True)
class TensorboardRow:
    """A running TensorBoard as the section shows it: a group's, or a selection's."""

    job: TensorboardJob
    open_url: str
    stop_url: str
    group_title: str | None = None
    group_url: str | None = None
    experiments: tuple = ()


@dataclass(frozen=True)
class TensorboardsSection:
    """The newest SHOWN running TensorBoards of the project, and how many run in all."""

    rows: list
    count: int

    @property
    def more(self):
        """How many run beside those shown."""
        return self.count - len(self.rows)


def tensorboards_section(access):
    """The section of the project page listing its running TensorBoards."""
    page = tensorboards.list_tensorboards(access, limit=SHOWN, offset=0, running=True)
    served = {i for job, _ in page.items for i in job.experiment_ids or ()}
    groups_of = tensorboards.experiment_groups(access, served)
    project = access.project
    names = {"owner": project.owner.username, "project": project.name}
    rows = []
    for job, group_name in page.items:
        urls = {
            "open_url": job_url(project, job),
            "stop_url": url_for("ui.project_tensorboard_stop", **names, tensorboard_id=job.id),
        }
        if job.group_id is not None:
            rows.append(
                TensorboardRow(
                    job,
                    **urls,
                    group_title=group_name or f"{project.unique_name}.{job.group_id}",
                    group_url=url_for("ui.group_page", **names, group_id=job.group_id),
                )
            )
            continue
        experiments = tuple(
            Served(i, _experiment_url(names, groups_of.get(i), i)) for i in job.experiment_ids
        )
        rows.append(TensorboardRow(job, **urls, experiments=experiments))
    return TensorboardsSection(rows=rows, count=page.count)


def _experiment_url(names, group_id, experiment_id):
    if group_id is None:
        return None
    return url_for("ui.experiment_page", **names, group_id=group_id, experiment_id=experiment_id)
