"""Groups: create from a polyaxonfile, read, list, update, stop, archive, delete."""

from dataclasses import dataclass, replace

from flask import current_app
from sqlalchemy import bindparam, delete, exists, select

from dashboard.errors import NotFound, ValidationError, field_error
from dashboard.extensions import db
from dashboard.hptuning import SpecError, parse_group_spec, suggestions
from dashboard.hptuning.spec import MAX_CONCURRENCY, MIN_CONCURRENCY
from dashboard.models import (
    Bookmark,
    Experiment,
    ExperimentGroup,
    Project,
    TablePreference,
    TensorboardJob,
)
from dashboard.names import is_slug
from dashboard.services.experiment import experiments as experiment_service
from dashboard.services.group import events, statuses, tallies
from dashboard.services.listing import apply_group_query, paginate
from dashboard.services.lookups import in_order_found, load_group
from dashboard.services.project.access import visible_projects_clause

# Algorithms whose experiments are all created with the group.
UPFRONT_ALGORITHMS = ("grid", "random")
# The rules of what a group (and an experiment) stores, checked here for every transport; the
# API schemas state them with these values. Concurrency's bounds are the spec parser's, so a
# polyaxonfile and an update accept the same values.
MAX_DESCRIPTION = 10_000
MAX_TAGS, MAX_TAG_LENGTH = 50, 64


def name_problem(name):
    """What is wrong with a name (None: nothing): names are slugs of at most 128 characters."""
    if name is None or (isinstance(name, str) and is_slug(name)):
        return None
    return "Enter a valid name: letters, numbers, underscores or hyphens (at most 128)."


def description_problem(text):
    """What is wrong with a description (None: nothing): text of at most 10,000 characters."""
    if text is None or (isinstance(text, str) and len(text) <= MAX_DESCRIPTION):
        return None
    return f"The description is too long (at most {MAX_DESCRIPTION} characters)."


def tags_problem(tags):
    """What is wrong with tags (None: nothing): at most 50, each 1 to 64 characters."""
    if tags is None:
        return None
    if not isinstance(tags, list):
        return "Tags are a list of strings."
    if len(tags) > MAX_TAGS:
        return f"At most {MAX_TAGS} tags are allowed."
    if not all(isinstance(tag, str) and tag.strip() and len(tag) <= MAX_TAG_LENGTH for tag in tags):
        return f"Each tag is a non-empty string of at most {MAX_TAG_LENGTH} characters."
    return None


def concurrency_problem(value):
    """What is wrong with a concurrency (None: nothing, or no change): a whole number from 1 to
    10,000."""
    whole = isinstance(value, int) and not isinstance(value, bool)
    if value is None or (whole and MIN_CONCURRENCY <= value <= MAX_CONCURRENCY):
        return None
    return f"Concurrency is a whole number from {MIN_CONCURRENCY} to {MAX_CONCURRENCY:,}."


RULES = {
    "name": name_problem,
    "description": description_problem,
    "tags": tags_problem,
    "concurrency": concurrency_problem,
}


def check_fields(fields):
    """Raise a ValidationError naming each of the fields given that breaks its rule."""
    problems = {
        name: [problem]
        for name, rule in RULES.items()
        if name in fields and (problem := rule(fields[name])) is not None
    }
    if problems:
        raise ValidationError(" ".join(m for ms in problems.values() for m in ms), fields=problems)


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
    return (
        select(column)
        .where(TensorboardJob.group_id == ExperimentGroup.id)
        .order_by(TensorboardJob.id.desc())
        .limit(1)
        .scalar_subquery()
    )


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
        exists().where(
            Bookmark.group_id == ExperimentGroup.id, Bookmark.user_id == bindparam("actor_id")
        ),
        _latest_job(TensorboardJob.status),
        _latest_job(TensorboardJob.updated_at),
        tallies.version_subquery(ExperimentGroup.id),
        select(TablePreference.updated_at)
        .where(
            TablePreference.group_id == ExperimentGroup.id,
            TablePreference.user_id == bindparam("actor_id"),
        )
        .scalar_subquery(),
        tallies.counts_subquery(ExperimentGroup.id, dialect_name),
    ).where(
        ExperimentGroup.id == bindparam("group_id"),
        ExperimentGroup.project_id == bindparam("project_id"),
    )


_STATES = {name: _state_statement(name) for name in ("postgresql", "sqlite")}


def read_state(access, group_id):
    """The access, holding the group's state (one query): what a conditional GET compares, and
    what get_group and load_group then use instead of reading the row again."""
    statement = _STATES.get(db.session.get_bind().dialect.name, _STATES["postgresql"])
    row = db.session.execute(
        statement,
        {
            "actor_id": access.actor.id,
            "group_id": group_id,
            "project_id": access.project.id,
        },
    ).one_or_none()
    if row is None:
        raise NotFound()
    (
        group,
        updated_at,
        status,
        bookmarked,
        tensorboard_status,
        tensorboard_at,
        version,
        columns_at,
        counts,
    ) = row
    stamp = (
        access.actor.id,
        access.role,
        group.id,
        updated_at,
        status,
        version,
        bool(bookmarked),
        tensorboard_status,
        tensorboard_at,
        columns_at,
    )
    counts = {name: int(count) for name, count in (counts or {}).items()}
    return replace(
        access, group_state=GroupState(group, bool(bookmarked), tensorboard_status, counts, stamp)
    )


def _state(access, group_id):
    held = getattr(access, "group_state", None)
    return (
        held
        if held is not None and held.group.id == group_id
        else read_state(access, group_id).group_state
    )


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


def hptuning_of(group):
    """The group's hptuning section as the spec parser normalised it: its concurrency (stored
    once, in the group's column) first, then the rest as stored."""
    stored = {key: value for key, value in (group.hptuning or {}).items() if key != "concurrency"}
    return {"concurrency": group.concurrency, **stored}


def list_groups(access, *, query=None, sort=None, archived=False, limit, offset):
    """A page of (group, bookmarked) rows of the project."""
    stmt = select(ExperimentGroup, _bookmarked(access.actor)).where(
        ExperimentGroup.project_id == access.project.id,
        ExperimentGroup.is_archived.is_(archived),
    )
    return paginate(apply_group_query(stmt, query, sort), limit, offset)


def recent_groups(*, actor, limit):
    """The latest changed groups (not archived) of the projects the actor sees, each with its
    project: one query."""
    return db.session.execute(
        select(ExperimentGroup, Project)
        .join(Project, Project.id == ExperimentGroup.project_id)
        .where(visible_projects_clause(actor), ExperimentGroup.is_archived.is_(False))
        .order_by(ExperimentGroup.updated_at.desc(), ExperimentGroup.id.desc())
        .limit(limit)
    ).all()


def groups_by_id(access, ids):
    """The project's groups of these ids, in their order (NotFound names any other): one query."""
    access.require("read")
    found = {
        g.id: g
        for g in db.session.scalars(
            select(ExperimentGroup).where(
                ExperimentGroup.id.in_(ids), ExperimentGroup.project_id == access.project.id
            )
        )
    }
    return in_order_found(ids, found, "groups")


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


def create_group(access, *, content, name=None, description=None, tags=None, cloned_from=None):
    """Create a group from polyaxonfile text; grid and random experiments are created at once.

    A clone gives the id of the project's group it copies (`cloned_from`, recorded on both):
    it takes no name from the file, names being unique.
    """
    access.require("create_group")
    check_fields({"name": name, "description": description, "tags": tags})
    original = None if cloned_from is None else load_group(access, cloned_from)
    try:
        spec = parse_group_spec(
            content, max_experiments=current_app.config["MAX_EXPERIMENTS_PER_GROUP"]
        )
    except SpecError as exc:
        raise ValidationError(str(exc), fields={"content": list(exc.errors)}) from None
    if original is None:
        name = name or _spec_text(spec.data.get("name"), is_slug)
    if name:
        _check_name_free(access.project.id, name)
    file_tags = spec.data.get("tags")
    if tags is None and isinstance(file_tags, list) and all(isinstance(t, str) for t in file_tags):
        tags = file_tags
    description = description or _spec_text(spec.data.get("description"))
    _check_file_fields(description=description, tags=tags)
    group = ExperimentGroup(
        project_id=access.project.id,
        user_id=access.actor.id,
        name=name,
        description=description,
        tags=tags,
        content=content,
        hptuning={key: value for key, value in spec.hptuning.items() if key != "concurrency"},
        search_algorithm=spec.search_algorithm,
        concurrency=spec.concurrency,
        resources=spec.resources or None,
        current_iteration=0,
        status="created",
        cloned_from_id=cloned_from,
    )
    group.user = access.actor
    db.session.add(group)
    db.session.flush()
    statuses.append_group_status(group, "created")
    if original is not None:
        events.record(
            original.id,
            user=access.actor,
            kind="clone",
            message=f"Cloned the group as group {group.id}.",
            data={"group": group.id},
        )
    if spec.search_algorithm in UPFRONT_ALGORITHMS:
        experiment_service.create_experiments(
            group, [{**spec.params, **suggestion} for suggestion in suggestions(spec)]
        )
    db.session.commit()
    return group


def _check_file_fields(**fields):
    """The rules hold for what the polyaxonfile gives too (400 on content, naming its key): a
    file cannot store what an update could not set back."""
    problems = [f"{name}: {rule}" for name, value in fields.items() if (rule := RULES[name](value))]
    if problems:
        raise ValidationError(" ".join(problems), fields={"content": problems})


def apply_labels(target, fields):
    """Write name, description and tags of a group or experiment (tags merged with `merge`, the
    merged list held to the tags rule too)."""
    tags = fields.get("tags")
    if fields.get("merge") and tags is not None:
        tags = list(dict.fromkeys((target.tags or []) + tags))
        check_fields({"tags": tags})
    for name in ("name", "description"):
        if name in fields:
            setattr(target, name, fields[name])
    if "tags" in fields:
        target.tags = tags


def update_group(access, group_id, *, fields):
    """Write name, description, tags (merged with `merge`) and concurrency (while not final),
    each checked by its rule first (ValidationError naming the fields, nothing written)."""
    access.require("edit")
    check_fields(fields)
    group = load_group(access, group_id, for_update=True)
    concurrency = fields.get("concurrency")
    if concurrency is not None and group.is_final:
        raise field_error(
            "concurrency", f"The group is {group.status}; its concurrency can no longer change."
        )
    if fields.get("name"):
        _check_name_free(access.project.id, fields["name"], group.id)
    apply_labels(group, fields)
    if concurrency is not None:
        group.concurrency = concurrency
    events.record_update(group, user=access.actor)
    db.session.commit()
    return group


def stop_group(access, group_id, *, pending_only=False, message=None):
    """Stop the group's experiments (all, or only pending ones) and move the group on.

    Stopping a finished group is a no-op (kept for client compatibility).
    """
    access.require("stop")
    group = load_group(access, group_id, for_update=True)
    if not group.is_final:
        message = message or f"Stopped by {access.actor.username}."
        statuses.request_stop(group, pending_only=pending_only, message=message)
        events.record(group.id, user=access.actor, kind="stop_pending" if pending_only else "stop")
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
    """Delete the group: its TensorBoard is stopped, then every row of it goes.

    The experiments are locked (in id order) before any row of them goes, while the group's
    lock still lets a report that holds one finish (see lookups.load_group).
    """
    from dashboard.services.group import tensorboards

    access.require("delete_group")
    group = load_group(access, group_id, for_update=True)
    db.session.execute(
        select(Experiment.id)
        .where(Experiment.group_id == group.id)
        .order_by(Experiment.id)
        .with_for_update()
    ).all()
    tensorboards.stop_processes(group.id)
    db.session.execute(delete(ExperimentGroup).where(ExperimentGroup.id == group.id))
    db.session.commit()
