"""Signed-in browser sessions: started at sign-in, looked up once per request, ended on demand.

The session cookie (signed with SECRET_KEY) carries a random key; the database keeps only its
SHA-256, with the user and the sign-in time. A cookie signs its user in only while that row
exists and is younger than SESSION_MAX_AGE_DAYS: signing out, a password change, "sign out
everywhere" and `flask set-password` delete rows, and a replayed cookie is then worth nothing.
"""

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from dashboard.extensions import db
from dashboard.ids import MAX_ID
from dashboard.models import LoginSession, User
from dashboard.models.types import utcnow
from dashboard.models.users import hash_key


def _oldest_live():
    """The sign-in time before which a session has expired."""
    return utcnow() - timedelta(days=current_app.config["SESSION_MAX_AGE_DAYS"])


def start_session(user, *, replacing=None):
    """A new session for the user (ending the browser's earlier one, `replacing`, a key);
    returns its key, for the cookie. Expired rows of every user go at the same time."""
    key = secrets.token_urlsafe(32)
    db.session.execute(delete(LoginSession).where(LoginSession.created_at < _oldest_live()))
    if replacing:
        db.session.execute(delete(LoginSession).where(LoginSession.key_hash == hash_key(replacing)))
    db.session.add(LoginSession(user_id=user.id, key_hash=hash_key(key)))
    db.session.commit()
    return key


def user_for_session(user_id, key):
    """The user whose live session has this key, or None: one query, by the key's unique index
    (it replaces the lookup of the user by id, so a request costs no more than before)."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    if not 0 < user_id <= MAX_ID:
        return None
    return db.session.execute(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.key_hash == hash_key(key),
            User.id == user_id,
            LoginSession.created_at >= _oldest_live(),
        )
    ).scalar_one_or_none()


def end_session(key):
    """End the session with this key (nothing happens when it has ended already)."""
    db.session.execute(delete(LoginSession).where(LoginSession.key_hash == hash_key(key)))
    db.session.commit()


def end_sessions(user, *, keep=None):
    """Delete every session of the user but `keep` (a key); returns how many. No commit."""
    query = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep:
        query = query.where(LoginSession.key_hash != hash_key(keep))
    return db.session.execute(query).rowcount


def end_all_sessions(user):
    """Sign the user out everywhere, the session asking included; returns how many ended."""
    count = end_sessions(user)
    db.session.commit()
    return count


def count_sessions(user):
    """How many live sessions the user has."""
    return db.session.scalar(
        select(func.count())
        .select_from(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.created_at >= _oldest_live())
    )
