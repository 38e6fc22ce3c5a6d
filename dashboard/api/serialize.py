"""Building response schemas from models (the only place model attributes become JSON)."""

import hashlib
import uuid

from dashboard.api.schemas.experiments import ExperimentOut, ExperimentStatusOut
from dashboard.api.schemas.groups import GroupDetailOut, GroupRowOut, GroupStatusOut, TensorboardOut
from dashboard.api.schemas.metrics import MetricListOut, MetricOut
from dashboard.api.schemas.projects import ProjectOut, RepoUploadOut
from dashboard.api.schemas.tensorboards import ProjectTensorboardOut
from dashboard.services.group import groups
from dashboard.services.group.tensorboards import job_url


def project_out(project):
    return ProjectOut(
        id=project.id,
        uuid=project.uuid,
        name=project.name,
        user=project.owner.username,
        unique_name=project.unique_name,
        description=project.description,
        is_public=project.is_public,
        tags=project.tags,
        created_at=project.created_at,
        updated_at=project.updated_at,
    )


def _group_fields(group, project, bookmarked):
    return dict(
        id=group.id,
        uuid=group.uuid,
        name=group.name,
        unique_name=f"{project.unique_name}.{group.id}",
        user=group.user.username,
        description=group.description,
        last_status=group.status,
        project=project.unique_name,
        created_at=group.created_at,
        updated_at=group.updated_at,
        started_at=group.started_at,
        finished_at=group.finished_at,
        tags=group.tags,
        concurrency=group.concurrency,
        search_algorithm=group.search_algorithm,
        cloned_from=group.cloned_from_id,
        bookmarked=bool(bookmarked),
    )


def group_row(group, project, bookmarked):
    return GroupRowOut(**_group_fields(group, project, bookmarked))


def group_detail(detail):
    group = detail.group
    return GroupDetailOut(
        **_group_fields(group, detail.project, detail.bookmarked),
        current_iteration=group.current_iteration,
        content=group.content,
        hptuning=groups.hptuning_of(group),
        has_tensorboard=detail.has_tensorboard,
        num_experiments=sum(detail.counts.values()),
        num_pending_experiments=detail.count("created"),
        num_running_experiments=detail.count("scheduled", "starting", "running"),
        num_scheduled_experiments=detail.count("scheduled"),
        num_succeeded_experiments=detail.count("succeeded"),
        num_failed_experiments=detail.count("failed"),
        num_stopped_experiments=detail.count("stopped"),
    )


def group_status(row):
    return GroupStatusOut(
        id=row.id,
        uuid=row.uuid,
        created_at=row.created_at,
        message=row.message,
        status=row.status,
        experiment_group=row.group_id,
    )


def experiment(row, group, project):
    group_unique_name = f"{project.unique_name}.{group.id}"
    return ExperimentOut(
        id=row.id,
        uuid=row.uuid,
        name=row.name,
        unique_name=f"{group_unique_name}.{row.id}",
        user=group.user.username,
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        last_status=row.status,
        project=project.unique_name,
        experiment_group=group_unique_name,
        tags=row.tags,
        last_metric=row.last_metric or {},
        params=row.params,
        # Bookmarks are kept for groups only; experiments are never bookmarked here.
        bookmarked=False,
        original_experiment=row.original_experiment_id,
        cloning_strategy=row.cloning_strategy,
        is_clone=row.is_clone,
    )


def _tensorboard_fields(job, project):
    return dict(
        id=job.id,
        uuid=job.uuid,
        user=job.user.username,
        name=job.name,
        description=job.description,
        project=project.unique_name,
        unique_name=f"{project.unique_name}.tensorboards.{job.id}",
        experiment_group=job.group_id,
        last_status=job.status,
        tags=job.tags,
        created_at=job.created_at,
        updated_at=job.updated_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        url=job_url(project, job),
    )


def tensorboard(job, project):
    """A group's TensorBoard job, as the group's routes answer it (CONTRACT section 5)."""
    return TensorboardOut(**_tensorboard_fields(job, project))


def project_tensorboard(job, project):
    """Any TensorBoard job of the project (a group's or a selection's), with its experiments."""
    return ProjectTensorboardOut(
        **_tensorboard_fields(job, project), experiments=job.experiment_ids
    )


def experiment_status(row):
    return ExperimentStatusOut(
        id=row.id,
        uuid=row.uuid,
        created_at=row.created_at,
        message=row.message,
        status=row.status,
        experiment=row.experiment_id,
    )


def _metric_uuids(experiment):
    """row id -> uuid.uuid5(experiment's uuid, str(id)).hex, without building UUID objects
    (a batch answers up to 1,000 of them)."""
    namespace = hashlib.sha1(uuid.UUID(experiment.uuid).bytes)

    def for_row(row_id):
        digest = namespace.copy()
        digest.update(str(row_id).encode())
        raw = bytearray(digest.digest()[:16])
        raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
        raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
        return raw.hex()

    return for_row


def _metric_fields(row, uuid_of):
    # Metric rows have no uuid column; the client's ExperimentMetricConfig requires one, so it
    # is derived from the experiment's uuid and the row id (stable, unique).
    return {
        "id": row.id,
        "uuid": uuid_of(row.id),
        "experiment": row.experiment_id,
        "created_at": row.created_at,
        "values": row.values,
    }


def metric(row, experiment):
    return MetricOut(**_metric_fields(row, _metric_uuids(experiment)))


def metrics(rows, experiment):
    uuid_of = _metric_uuids(experiment)
    return MetricListOut.model_validate([_metric_fields(row, uuid_of) for row in rows])


def repo_upload(upload, project, user):
    return RepoUploadOut(
        id=upload.id,
        project=project.unique_name,
        user=user.username,
        size=upload.size,
        created_at=upload.created_at,
    )
