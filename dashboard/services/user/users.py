"""Users, passwords and API tokens."""

from datetime import timedelta

from sqlalchemy import bindparam, select, update

from dashboard.errors import InvalidToken, NotFound, ValidationError, field_error
from dashboard.extensions import db
from dashboard.models import ApiToken, User
from dashboard.models.types import utcnow
from dashboard.models.users import RESERVED_USERNAMES, hash_key, new_key
from dashboard.names import is_slug
from dashboard.services.user import login_sessions

# The last-used time is refreshed at most this often, so reads stay one query.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def check_username(username):
    """Raise ValidationError unless the name is a free, well-formed, non-reserved username."""
    if not is_slug(username, 150):
        raise field_error("username", "Enter a valid username: letters, numbers, _ or -.")
    if username.lower() in RESERVED_USERNAMES:
        raise field_error("username", f"The username '{username}' is reserved.")
    taken = db.session.execute(select(User.id).where(User.username == username)).first()
    if taken:
        raise field_error("username", f"The username '{username}' is already taken.")


def create_user(username, password, *, email=None, is_staff=False):
    """Create a user with a hashed password."""
    check_username(username)
    if not password:
        raise field_error("password", "The password may not be empty.")
    user = User(username=username, email=email, is_staff=is_staff)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def get_user(username):
    return db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def authenticate(username, password):
    """The user if the credentials are right, else None (without saying which part was wrong)."""
    user = get_user(username)
    if user is None or not user.check_password(password):
        return None
    return user


MIN_PASSWORD = 8


def password_problem(password):
    """Why a new password is refused, or None: the one rule for every way of setting one."""
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    return None


def change_password(user, *, current, new, confirm, keep_session=None):
    """Change a user's password after checking the current one; field errors otherwise.

    Every other session of the user ends (a thief's included); `keep_session`, the key of the
    session asking, goes on.
    """
    errors = {}
    if not user.check_password(current):
        errors["current_password"] = ["The current password is wrong."]
    if problem := password_problem(new):
        errors["new_password"] = [problem]
    elif new != confirm:
        errors["confirm_password"] = ["The two new passwords differ."]
    if errors:
        raise ValidationError("The password was not changed.", fields=errors)
    user.set_password(new)
    login_sessions.end_sessions(user, keep=keep_session)
    db.session.commit()
    return user


def reset_password(user, new):
    """Set a user's password without asking for the current one (an operator's reset); every
    session of the user ends."""
    if problem := password_problem(new):
        raise field_error("password", problem)
    user.set_password(new)
    login_sessions.end_sessions(user)
    db.session.commit()
    return user


def create_token(user, name="cli"):
    """Create a named token for the user; returns (token row, key). The key is shown only once."""
    key = new_key()
    token = ApiToken(user_id=user.id, name=name, key_hash=hash_key(key))
    db.session.add(token)
    db.session.commit()
    return token, key


def login_token(username, password):
    """Exchange credentials for a new `cli` token key."""
    user = authenticate(username, password)
    if user is None:
        raise ValidationError("Unable to log in with provided credentials.")
    return create_token(user, "cli")[1]


def revoke_token(token_id, *, actor):
    """Revoke one of the actor's tokens."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound()
    token.revoked_at = token.revoked_at or utcnow()
    db.session.commit()
    return token


def revoke_all_tokens(*, actor):
    """Revoke every live token of the actor; returns how many."""
    revoked = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == actor.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount
    db.session.commit()
    return revoked


# Built once: every API call with a token runs it.
_TOKEN_BY_HASH = select(ApiToken).where(ApiToken.key_hash == bindparam("key_hash"))


def user_for_token(key):
    """The user owning a live token key; raises InvalidToken otherwise."""
    token = db.session.execute(_TOKEN_BY_HASH, {"key_hash": hash_key(key)}).scalar_one_or_none()
    return user_of_token(token)


def user_of_token(token):
    """The user of a token row read by its key (None: no such key); InvalidToken unless live.
    Its last use is written at most once a minute."""
    if token is None or token.revoked_at is not None:
        raise InvalidToken()
    user = token.user
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return user


MAX_TOKEN_NAME = 100


def list_tokens(user):
    """The user's API tokens, newest first (revoked ones too)."""
    return db.session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()


def create_named_token(user, name):
    """Create a token with a name the user chose; returns (token row, key) like create_token."""
    name = (name or "").strip()
    if not name:
        raise field_error("name", "Give the token a name.")
    if len(name) > MAX_TOKEN_NAME:
        raise field_error("name", f"Use at most {MAX_TOKEN_NAME} characters.")
    return create_token(user, name)
