"""Users, their API tokens and their signed-in sessions."""

import hashlib
import secrets
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.extensions import db
from dashboard.models.types import UTCDateTime, utcnow

# Usernames that would collide with a route (CONTRACT.md section 8).
RESERVED_USERNAMES = frozenset(
    {
        "api",
        "app",
        "bookmarks",
        "healthz",
        "log_handler",
        "login",
        "logout",
        "projects",
        "settings",
        "static",
        "tensorboard",
        "users",
        "versions",
    }
)


class User(UserMixin, db.Model):
    """A person who signs in; staff users may do everything."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(256))
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def set_password(self, password):
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)


class ApiToken(db.Model):
    """An API key: only its SHA-256 is stored; the key itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class LoginSession(db.Model):
    """A browser's sign-in: its signed cookie carries the key, only the key's SHA-256 is stored.

    Signing out deletes the row, and a cookie whose row is gone signs nobody in.
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def hash_key(key):
    """The stored form of a token key."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key():
    """A fresh random token key (40 hex characters, like Polyaxon's)."""
    return secrets.token_hex(20)
