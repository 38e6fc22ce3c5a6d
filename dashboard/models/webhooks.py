"""A project's webhooks, the deliveries queued for them and each attempt to send one."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db
from dashboard.models.types import JSONText, UTCDateTime, utcnow

DELIVERY_STATUSES = ("pending", "delivered", "failed")


class Webhook(db.Model):
    """A URL that gets a POST when one of `events` happens in the project."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list] = mapped_column(JSONText)
    # Write-only: it signs the bodies and is never shown again.
    secret: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )


class WebhookDelivery(db.Model):
    """One event to send to one webhook: pending until delivered or given up (failed).

    `failures` counts the experiments an `experiment.failed` delivery summarises (a burst, while
    it waits: later failures of the group join it until its first attempt);
    `body` is the exact bytes sent, built at the first attempt and resent as they are.
    No foreign key to the group: its deliveries outlive it.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The sender's poll: the pending deliveries that are due, oldest first.
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        # A webhook's latest deliveries (the settings page), and a group's latest burst.
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
        Index("ix_webhook_deliveries_group", "group_id", "event"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(32))
    group_id: Mapped[int] = mapped_column(Integer)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When its first attempt was due (a throttled `experiment.failed` a minute after the last).
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookAttempt(db.Model):
    """One try at sending a delivery: the answer's status code, or the error."""

    __tablename__ = "webhook_attempts"
    # GET .../deliveries: a webhook's latest attempts.
    __table_args__ = (Index("ix_webhook_attempts_webhook", "webhook_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
