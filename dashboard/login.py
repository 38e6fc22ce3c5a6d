"""Browser sign-in: Flask-Login's user loader, and signing a browser in and out.

Flask-Login keeps the user's id in the signed session cookie; beside it the cookie carries the
key of a server-side session (services/login_sessions.py). The loader asks for both in one
query, the one that loaded the user by id before, so a signed-in request costs what it did. A
forged or replayed cookie without a live session key is anonymous. API requests with a token
never reach the loader.
"""

from flask import session
from flask_login import login_user, logout_user

from dashboard.services.user import login_sessions

SESSION_KEY = "_session_key"


def load_user(user_id):
    """Flask-Login's user loader: the user, while the cookie's session is live."""
    key = session.get(SESSION_KEY)
    if not isinstance(key, str) or not key:
        return None
    return login_sessions.user_for_session(user_id, key)


def current_session_key():
    """The key of this browser's session, or None."""
    return session.get(SESSION_KEY)


def sign_in(user):
    """Start a session for the user and sign this browser in with it."""
    key = login_sessions.start_session(user, replacing=session.pop(SESSION_KEY, None))
    login_user(user)
    session[SESSION_KEY] = key


def sign_out():
    """End this browser's session and sign it out."""
    key = session.pop(SESSION_KEY, None)
    if key:
        login_sessions.end_session(key)
    logout_user()


def sign_out_everywhere(user):
    """End every session of the user, this browser's included; returns how many ended."""
    count = login_sessions.end_all_sessions(user)
    session.pop(SESSION_KEY, None)
    logout_user()
    return count
