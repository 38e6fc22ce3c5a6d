"""Workers that run experiments, with a heartbeat so a vanished one is noticed."""

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db
from dashboard.models.types import JSONText, UTCDateTime, utcnow


class Worker(db.Model):
    """A runner process: `host:pid`, when it started and when it was last seen alive."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The GPU ids it declared (--gpus, WORKER_GPUS); None: none.
    gpus: Mapped[list | None] = mapped_column(JSONText)
