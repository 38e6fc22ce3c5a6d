"""Unpacking an uploaded code tarball safely (pure: no Flask, no database).

Only regular files and folders are written, below the destination. Refused, naming the member:
absolute paths, `..` components, symlinks, hardlinks, devices, fifos, sparse files, a member
count or an unpacked size above the caps (TooLarge). A refused archive leaves nothing behind.
"""

import os
import shutil
import tarfile
from pathlib import Path, PurePosixPath

MAX_MEMBERS = 20000
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
CHUNK = 1024 * 1024


class UnsafeArchive(ValueError):
    """A tarball that is refused; the message names the member and the reason."""


class TooLarge(UnsafeArchive):
    """The unpacked code would pass `max_bytes`: `member` is the file that crossed it."""

    def __init__(self, member, max_bytes):
        super().__init__(f"'{member}': the unpacked code is larger than {max_bytes} bytes.")
        self.member = member
        self.max_bytes = max_bytes


def _safe_name(name):
    """The member's relative path parts, or UnsafeArchive."""
    if name.startswith("/") or (len(name) > 1 and name[0].isalpha() and name[1] == ":"):
        raise UnsafeArchive(f"'{name}': absolute paths are not allowed.")
    parts = [part for part in PurePosixPath(name).parts if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchive(f"'{name}': '..' in a path is not allowed.")
    if "\\" in name or "\0" in name:
        raise UnsafeArchive(f"'{name}': backslashes and NUL characters are not allowed.")
    return parts


def _kind(member):
    if member.issym():
        return "a symlink"
    if member.islnk():
        return "a hardlink"
    if member.ischr() or member.isblk():
        return "a device"
    if member.isfifo():
        return "a fifo"
    if member.issparse():
        return "a sparse file"
    if member.isfile() or member.isdir():
        return None
    return "an unsupported member type"


def _write(archive, member, target, budget, max_bytes):
    source = archive.extractfile(member)
    written = 0
    with open(target, "wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > budget:
                raise TooLarge(member.name, max_bytes)
            out.write(chunk)
    os.chmod(target, 0o755 if member.mode & 0o111 else 0o644)
    return written


def _extract(archive, member, target, budget, max_bytes):
    if member.isdir():
        target.mkdir(parents=True, exist_ok=True)
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    return _write(archive, member, target, budget, max_bytes)


def unpack_tarball(fileobj, destination, *, max_members=MAX_MEMBERS, max_bytes=MAX_UNPACKED_BYTES):
    """Unpack a (gzip, bz2, xz or plain) tar stream into a new folder; returns bytes written.

    Raises UnsafeArchive (and removes the folder) for a refused or unreadable archive.
    """
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=False)
    total = 0
    try:
        with tarfile.open(fileobj=fileobj, mode="r|*") as archive:
            for count, member in enumerate(archive, start=1):
                if count > max_members:
                    raise UnsafeArchive(
                        f"'{member.name}': more than {max_members} members in the archive."
                    )
                parts = _safe_name(member.name)
                kind = _kind(member)
                if kind:
                    raise UnsafeArchive(f"'{member.name}': {kind} is not allowed.")
                if not parts:
                    continue  # the archive's own root folder
                if member.isfile() and member.size > max_bytes - total:
                    raise TooLarge(member.name, max_bytes)  # said by its header: nothing written
                try:
                    total += _extract(
                        archive, member, destination.joinpath(*parts), max_bytes - total, max_bytes
                    )
                except (IsADirectoryError, NotADirectoryError, FileExistsError) as exc:
                    raise UnsafeArchive(
                        f"'{member.name}': clashes with another member ({exc.strerror})."
                    ) from None
    except UnsafeArchive:
        shutil.rmtree(destination, ignore_errors=True)
        raise
    except OSError as exc:
        shutil.rmtree(destination, ignore_errors=True)
        if exc.filename is not None:  # writing here failed (a full disk): no server path shown
            raise UnsafeArchive(f"The upload could not be unpacked: {exc.strerror}.") from None
        raise UnsafeArchive(f"The upload is not a readable tar archive: {exc}") from None
    except (tarfile.TarError, EOFError, UnicodeError) as exc:
        shutil.rmtree(destination, ignore_errors=True)
        raise UnsafeArchive(f"The upload is not a readable tar archive: {exc}") from None
    return total
