"""The Markdown notes of a group or of an experiment: one row per target, versioned."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db
from dashboard.models.types import UTCDateTime, utcnow


class Note(db.Model):
    """The notes of exactly one group or one experiment (deleted with it, by the foreign key).

    `version` counts the saves (1 for the first): a save names the version it read and
    applies only while that is still the row's (compare-and-set), so no save is lost.
    """

    __tablename__ = "notes"
    __table_args__ = (
        CheckConstraint("(group_id IS NULL) <> (experiment_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiment_groups.id", ondelete="CASCADE"), unique=True
    )
    experiment_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), unique=True
    )
    markdown: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
