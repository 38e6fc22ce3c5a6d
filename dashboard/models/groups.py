"""Experiment groups, their status history, bookmarks and search iterations."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dashboard.extensions import db
from dashboard.models.projects import Project
from dashboard.models.statuses import GROUP_STATUSES
from dashboard.models.types import JSONText, UTCDateTime, new_uuid, utcnow
from dashboard.models.users import User

STATUSES = GROUP_STATUSES


class ExperimentGroup(db.Model):
    """A hyperparameter search created from a polyaxonfile."""

    __tablename__ = "experiment_groups"
    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        Index("ix_experiment_groups_project_created", "project_id", "created_at"),
        # The worker's round picks the unfinished groups among all of them.
        Index("ix_experiment_groups_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(32), default=new_uuid, unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list | None] = mapped_column(JSONText)
    content: Mapped[str] = mapped_column(Text)
    hptuning: Mapped[dict] = mapped_column(JSONText)
    search_algorithm: Mapped[str] = mapped_column(String(16))
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    # environment.resources of its polyaxonfile, normalised (hptuning.resources); None: none.
    resources: Mapped[dict | None] = mapped_column(JSONText)
    current_iteration: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="created")
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The optimisation objective chosen by a user ({"metric", "optimization"}); when null it
    # comes from the spec (early-stopping / hyperband / bo metric).
    objective: Mapped[dict | None] = mapped_column(JSONText)
    # The group this one was cloned from (POST .../clone, or the page's Clone).
    cloned_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiment_groups.id", ondelete="SET NULL")
    )
    # Experiments added to the search's budget by POST .../extend (its content stays as
    # submitted): grid and random ones are created at once, the others as the search asks.
    extended_by: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    project: Mapped[Project] = relationship(lazy="raise")
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def last_status(self):
        return self.status

    @property
    def is_final(self):
        return STATUSES.is_final(self.status)


class GroupStatusCount(db.Model):
    """How many of a group's experiments are in a status: kept by database triggers on
    experiments (migration 0009) in the same transaction as every change, never by the app.

    No foreign key: the triggers remove a deleted group's rows (the migration says why)."""

    __tablename__ = "group_status_counts"

    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class GroupStatusChange(db.Model):
    """Changes to the counts noted by PostgreSQL's triggers and added to them when their
    transaction commits (a status of None marks a change of the version only); always empty
    outside a writing transaction, and on SQLite."""

    __tablename__ = "group_status_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str | None] = mapped_column(String(16))
    delta: Mapped[int] = mapped_column(Integer)


class GroupVersion(db.Model):
    """A number the same triggers raise with every insert, update or delete of the group's
    experiments: an equal version means the same experiments."""

    __tablename__ = "group_versions"

    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class GroupStatus(db.Model):
    """One row of a group's status history; never rewritten."""

    __tablename__ = "group_statuses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(32), default=new_uuid, unique=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("experiment_groups.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Bookmark(db.Model):
    """A user's bookmark of a group: at most one per user and group."""

    __tablename__ = "bookmarks"
    __table_args__ = (UniqueConstraint("user_id", "group_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(
        ForeignKey("experiment_groups.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchIteration(db.Model):
    """One iteration of an iterative search (a hyperband rung, a bo step)."""

    __tablename__ = "search_iterations"
    __table_args__ = (UniqueConstraint("group_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("experiment_groups.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict | None] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupEvent(db.Model):
    """Something that happened to a group, for its timeline: who did what, and when.

    Status changes live in the status tables; these are user actions (stop, edit, archive,
    tensorboard, concurrency, bookmark...). `private` events are shown only to their user.
    """

    __tablename__ = "group_events"
    __table_args__ = (Index("ix_group_events_group_created", "group_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("experiment_groups.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSONText)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TablePreference(db.Model):
    """A user's chosen experiment-table columns for a group."""

    __tablename__ = "table_preferences"
    __table_args__ = (UniqueConstraint("user_id", "group_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(
        ForeignKey("experiment_groups.id", ondelete="CASCADE"), index=True
    )
    columns: Mapped[list] = mapped_column(JSONText)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
