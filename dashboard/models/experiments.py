"""Experiments, their status history and their typed param/metric values."""

import json
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db
from dashboard.models.statuses import EXPERIMENT_STATUSES
from dashboard.models.types import JSONText, UTCDateTime, new_uuid, utcnow

STATUSES = EXPERIMENT_STATUSES


class Experiment(db.Model):
    """One run of the group's command with one suggestion of params."""

    __tablename__ = "experiments"
    __table_args__ = (
        Index("ix_experiments_group_status", "group_id", "status"),
        Index("ix_experiments_group_id", "group_id", "id"),
        # What changed in a group since a time (services.plots.group_columns).
        Index("ix_experiments_group_updated_at", "group_id", "updated_at"),
        # The worker's twice-a-second look for lost experiments: the few running ones only.
        Index("ix_experiments_status_worker", "status", "worker"),
        # Deleting an experiment looks up those that continue it (the few that do).
        Index(
            "ix_experiments_original_experiment_id",
            "original_experiment_id",
            postgresql_where=text("original_experiment_id IS NOT NULL"),
            sqlite_where=text("original_experiment_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(32), default=new_uuid, unique=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("experiment_groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list | None] = mapped_column(JSONText)
    params: Mapped[dict] = mapped_column(JSONText)
    last_metric: Mapped[dict | None] = mapped_column(JSONText)
    iteration: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="created")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Runner bookkeeping: which worker claimed it, the process group it runs in, and the hash of
    # the experiment's own credentials (valid until the experiment is final).
    worker: Mapped[str | None] = mapped_column(String(255), index=True)
    pid: Mapped[int | None] = mapped_column(Integer)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The GPUs it was placed on, {"worker": <who declared them>, "ids": [...]}; held while it
    # is scheduled, starting or running. None: it asked none.
    gpus: Mapped[dict | None] = mapped_column(JSONText)
    # Set when a user (or early stopping) asks a running experiment to stop; the worker kills it.
    stop_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why, when it was not a user (an early-stopping policy): its final `stopped` row says so.
    stop_message: Mapped[str | None] = mapped_column(Text)
    # The experiment it continues: an asha promotion (cloning_strategy None) or a clone
    # (restart, resume or copy).
    original_experiment_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiments.id", ondelete="SET NULL")
    )
    cloning_strategy: Mapped[str | None] = mapped_column(String(8))
    # The upload of the project's code it runs: set when it starts, or when a clone is made to
    # run its original's code; None until then (the latest upload) or once pruned.
    code_upload_id: Mapped[int | None] = mapped_column(
        ForeignKey("repo_uploads.id", ondelete="SET NULL"), index=True
    )

    @property
    def last_status(self):
        return self.status

    @property
    def is_clone(self):
        """Made by restart, resume or copy (an asha promotion continues one but is no clone)."""
        return self.cloning_strategy is not None


class ExperimentMetric(db.Model):
    """One reported set of metric values; the history behind last_metric."""

    __tablename__ = "experiment_metrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    values: Mapped[dict] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExperimentStatus(db.Model):
    """One row of an experiment's status history."""

    __tablename__ = "experiment_statuses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(32), default=new_uuid, unique=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExperimentValue(db.Model):
    """A param or the latest metric of an experiment, typed, so lists sort and filter in SQL.

    num_value is set for numbers (not booleans); text_value holds every value as text.
    """

    __tablename__ = "experiment_values"
    # The group is repeated here so that a group's values of one name are one index range:
    # filters, sorts and the list of names read it in order instead of probing every experiment.
    __table_args__ = (
        Index("ix_experiment_values_lookup", "kind", "name", "num_value"),
        Index(
            "ix_experiment_values_group",
            "group_id",
            "kind",
            "name",
            "num_value",
            "text_value",
            "experiment_id",
        ),
    )

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(ForeignKey("experiment_groups.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    num_value: Mapped[float | None] = mapped_column(Float)
    text_value: Mapped[str | None] = mapped_column(Text)


def value_columns(value):
    """The (num_value, text_value) pair stored for a param or metric value."""
    if isinstance(value, bool):
        return None, "true" if value else "false"
    if isinstance(value, (int, float)):
        return float(value), str(value)
    if isinstance(value, str):
        return None, value
    return None, json.dumps(value)
