"""Groups: create from a polyaxonfile, read, list, update, archive, delete."""

from dataclasses import dataclass, replace

from flask import current_app
from sqlalchemy import bindparam, delete, exists, select

from dashboard.errors import NotFound, ValidationError, field_error
from dashboard.extensions import db
from dashboard.hptuning import SpecError, parse_group_spec, suggestions
from dashboard.models import Bookmark, ExperimentGroup, TablePreference, TensorboardJob
from dashboard.names import is_slug
from dashboard.services import events, statuses, tallies
from dashboard.services import experiments as experiment_service
from dashboard.services.listing import apply_group_query, paginate
from dashboard.services.lookups import load_group

# Algorithms whose experiments are all created with the group.
UPFRONT_ALGORITHMS = ("grid", "random")


@dataclass(frozen=True)
class GroupDetail:
    """A group with what its detail view shows: counts, bookmark, TensorBoard state."""

    group: ExperimentGroup
    project: object
    bookmarked: bool
    tensorboard_status: str | None
    counts: dict

    @property
    def has_tensorboard(self):
        return None if self.tensorboard_status is None else self.tensorboard_status == "running"

    def count(self, *names):
        return sum(self.counts.get(name, 0) for name in names)


def _bookmarked(actor):
    return exists().where(Bookmark.group_id == ExperimentGroup.id, Bookmark.user_id == actor.id)


@dataclass(frozen=True)
class GroupState:
    """A group's row read with what its views show beside it, and their stamp: a value that
    changes whenever anything GET group or the group page's fragments show may have changed."""

    group: ExperimentGroup
    bookmarked: bool
    tensorboard_status: str | None
    counts: dict
    stamp: tuple


def _latest_job(column):
    return (select(column).where(TensorboardJob.group_id == ExperimentGroup.id)
            .order_by(TensorboardJob.id.desc()).limit(1).scalar_subquery())


# Built once: GET group and every poll of the group page run it. The stamp's parts: the group
# row (its own changes: status, description, objective, concurrency...), the version the
# database raises with every change to its experiments (metric reports included), the latest
# TensorBoard job, and the reader's own bookmark and saved columns.
def _state_statement(dialect_name):
    return select(
        ExperimentGroup,
        # The stamp's own copies of the row's columns: read as they are now, whatever copy of
        # the row the session may hold already.
        ExperimentGroup.updated_at,
        ExperimentGroup.status,
        exists().where(Bookmark.group_id == ExperimentGroup.id,
                       Bookmark.user_id == bindparam("actor_id")),
        _latest_job(TensorboardJob.status),
        _latest_job(TensorboardJob.updated_at),
        tallies.version_subquery(ExperimentGroup.id),
        select(TablePreference.updated_at).where(
            TablePreference.group_id == ExperimentGroup.id,
            TablePreference.user_id == bindparam("actor_id")).scalar_subquery(),
        tallies.counts_subquery(ExperimentGroup.id, dialect_name),
    ).where(ExperimentGroup.id == bindparam("group_id"),
            ExperimentGroup.project_id == bindparam("project_id"))


_STATES = {name: _state_statement(name) for name in ("postgresql", "sqlite")}


def read_state(access, group_id):
    """The access, holding the group's state (one query): what a conditional GET compares, and
    what get_group and load_group then use instead of reading the row again."""
    statement = _STATES.get(db.session.get_bind().dialect.name, _STATES["postgresql"])
    row = db.session.execute(statement, {
        "actor_id": access.actor.id, "group_id": group_id, "project_id": access.project.id,
    }).one_or_none()
    if row is None:
        raise NotFound()
    group, updated_at, status, bookmarked, tensorboard_status, tensorboard_at, version, \
        columns_at, counts = row
    stamp = (access.actor.id, access.role, group.id, updated_at, status, version,
             bool(bookmarked), tensorboard_status, tensorboard_at, columns_at)
    counts = {name: int(count) for name, count in (counts or {}).items()}
    return replace(access, group_state=GroupState(group, bool(bookmarked), tensorboard_status,
                                                  counts, stamp))


def _state(access, group_id):
    held = getattr(access, "group_state", None)
    return held if held is not None and held.group.id == group_id else \
        read_state(access, group_id).group_state


def get_group(access, group_id):
    """The group's detail: one query (the group with its flags and counts), none when the
    access holds its state already (read_state)."""
    state = _state(access, group_id)
    return GroupDetail(
        group=state.group,
        project=access.project,
        bookmarked=state.bookmarked,
        tensorboard_status=state.tensorboard_status,
        counts=state.counts,
    )


def list_groups(access, *, query=None, sort=None, archived=False, limit, offset):
    """A page of (group, bookmarked) rows of the project."""
    stmt = select(ExperimentGroup, _bookmarked(access.actor)).where(
        ExperimentGroup.project_id == access.project.id,
        ExperimentGroup.is_archived.is_(archived),
    )
    return paginate(apply_group_query(stmt, query, sort), limit, offset)


def _check_name_free(project_id, name, group_id=None):
    stmt = select(ExperimentGroup.id).where(
        ExperimentGroup.project_id == project_id, ExperimentGroup.name == name
    )
    if group_id is not None:
        stmt = stmt.where(ExperimentGroup.id != group_id)
    if db.session.execute(stmt).first():
        raise field_error("name", f"A group named '{name}' already exists in this project.")


def _spec_text(value, check=None):
    if isinstance(value, str) and (check is None or check(value)):
        return value
    return None


def create_group(access, *, content, name=None, description=None, tags=None):
    """Create a group from polyaxonfile text; grid and random experiments are created at once."""
    access.require("create_group")
    try:
        spec = parse_group_spec(
            content, max_experiments=current_app.config["MAX_EXPERIMENTS_PER_GROUP"]
        )
    except SpecError as exc:
        raise ValidationError(str(exc), fields={"content": list(exc.errors)}) from None
    name = name or _spec_text(spec.data.get("name"), is_slug)
    if name:
        _check_name_free(access.project.id, name)
    file_tags = spec.data.get("tags")
    if tags is None and isinstance(file_tags, list) and all(isinstance(t, str) for t in file_tags):
        tags = file_tags
    group = ExperimentGroup(
        project_id=access.project.id,
        user_id=access.actor.id,
        name=name,
        description=description or _spec_text(spec.data.get("description")),
        tags=tags,
        content=content,
        hptuning=spec.hptuning,
        search_algorithm=spec.search_algorithm,
        concurrency=spec.concurrency,
        current_iteration=0,
        status="created",
    )
    group.user = access.actor
    db.session.add(group)
    db.session.flush()
    statuses.append_group_status(group, "created")
    if spec.search_algorithm in UPFRONT_ALGORITHMS:
        experiment_service.create_experiments(
            group, [{**spec.params, **suggestion} for suggestion in suggestions(spec)]
        )
    db.session.commit()
    return group


def apply_labels(target, fields):
    """Write name, description and tags of a group or experiment (tags merged with `merge`)."""
    for name in ("name", "description"):
        if name in fields:
            setattr(target, name, fields[name])
    if "tags" in fields:
        tags = fields["tags"]
        if fields.get("merge") and tags is not None:
            tags = list(dict.fromkeys((target.tags or []) + tags))
        target.tags = tags


def update_group(access, group_id, *, fields):
    """Write name, description, tags (merged with `merge`) and concurrency (while not final)."""
    access.require("edit")
    group = load_group(access, group_id, for_update=True)
    if fields.get("name"):
        _check_name_free(access.project.id, fields["name"], group.id)
    apply_labels(group, fields)
    if fields.get("concurrency") is not None:
        if group.is_final:
            raise field_error(
                "concurrency", f"The group is {group.status}; its concurrency can no longer change."
            )
        group.concurrency = fields["concurrency"]
        group.hptuning = {**group.hptuning, "concurrency": fields["concurrency"]}
    events.record_update(group, user=access.actor)
    db.session.commit()
    return group


def set_archived(access, group_id, archived):
    """Archive or restore a group; its running state is left as it was."""
    access.require("archive")
    group = load_group(access, group_id, for_update=True)
    group.is_archived = archived
    events.record(group.id, user=access.actor, kind="archive" if archived else "restore")
    db.session.commit()
    return group


def delete_group(access, group_id):
    """Delete the group: its TensorBoard is stopped, then every row of it goes."""
    from dashboard.services import tensorboards

    access.require("delete_group")
    group = load_group(access, group_id, for_update=True)
    tensorboards.stop_processes(group.id)
    db.session.execute(delete(ExperimentGroup).where(ExperimentGroup.id == group.id))
    db.session.commit()

