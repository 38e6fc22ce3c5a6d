"""TensorBoard jobs (of a group, or of a selection of a project's experiments) and their status
history."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dashboard.extensions import db
from dashboard.models.statuses import TENSORBOARD_STATUSES
from dashboard.models.types import JSONText, UTCDateTime, new_uuid, utcnow
from dashboard.models.users import User

STATUSES = TENSORBOARD_STATUSES


class TensorboardJob(db.Model):
    """A TensorBoard process serving a group's outputs, or those of chosen experiments (a
    selection: group_id None, experiment_ids the ids)."""

    __tablename__ = "tensorboard_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(32), default=new_uuid, unique=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiment_groups.id", ondelete="CASCADE"), index=True
    )
    # A selection's experiments, ascending (their rows may be deleted since: the ids stay).
    experiment_ids: Mapped[list | None] = mapped_column(JSONText)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list | None] = mapped_column(JSONText)
    content: Mapped[str | None] = mapped_column(Text)
    is_managed: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="created")
    host: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)
    pid: Mapped[int | None] = mapped_column(Integer)
    # The first segment of the process's --path_prefix, known only to the dashboard's proxy:
    # experiments on this machine reach loopback, so the public prefix must not be enough.
    # None for a job started before there was one: it is stopped, never proxied.
    path_secret: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When someone last opened it through the proxy (an idle TensorBoard is stopped).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def last_status(self):
        return self.status


class TensorboardStatus(db.Model):
    """One row of a TensorBoard job's status history."""

    __tablename__ = "tensorboard_statuses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(32), default=new_uuid, unique=True)
    job_id: Mapped[int] = mapped_column(
        ForeignKey("tensorboard_jobs.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
