"""The key that signs sessions when SECRET_KEY is not set: random, made once, kept in a file.

Never a constant (anyone could sign a cookie with it). The web server, its gunicorn workers and
`flask worker` share the instance folder (DASHBOARD_INSTANCE), so they share this file: the first
process to start writes a fresh key, every later one (and every restart) reads it back.
"""

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

FILE_NAME = "secret_key"
# 64 hex characters: 256 random bits.
KEY_BYTES = 32


def instance_secret_key(folder):
    """The key in folder/secret_key, made on first use with mode 0600."""
    path = Path(folder) / FILE_NAME
    if not path.exists():
        _create(path)
    key = path.read_text().strip()
    if len(key) < KEY_BYTES:
        raise RuntimeError(
            f"{path} holds no usable key: delete it to make a new one "
            "(everyone signed in is signed out) or set SECRET_KEY"
        )
    return key


def _create(path):
    """Write a fresh key beside path, then link it into place: a link fails when the name
    exists (like O_CREAT|O_EXCL), so two processes starting at once keep the first one's key,
    and no reader ever sees a half-written file."""
    os.makedirs(path.parent, exist_ok=True)
    # mkstemp opens with O_CREAT|O_EXCL and mode 0600.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{FILE_NAME}.")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(KEY_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: its key wins
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
