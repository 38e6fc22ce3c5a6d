"""Reading what experiments wrote: regular files only, reached without links, never blocking.

An experiment's own code can replace anything in its folder under the outputs root: with a FIFO
(a plain open() waits for a writer forever), a socket, a device, or a symlink to a file of the
server's. Every read there goes through here: a path with a symlink anywhere on it, or naming
anything but a regular file, reads as missing; a copy of such a folder (a copied experiment's
outputs) takes its regular files and folders only. Pure Python: no Flask, no database.
"""

import errno
import fcntl
import os
import stat
import time

# Open errors that mean "not a file we may read" (a link, a socket, a lease holder, a changed
# permission): the caller answers as if the file were missing. Others (EMFILE, EIO) propagate.
_REFUSED = frozenset(
    {
        errno.ENOENT,
        errno.ENOTDIR,
        errno.ELOOP,
        errno.ENXIO,
        errno.ENODEV,
        errno.EISDIR,
        errno.EACCES,
        errno.EPERM,
        errno.EAGAIN,
        errno.EWOULDBLOCK,
    }
)
_FOLDER = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO returns at once (and so does one whose holder keeps a lease on it).
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _open_without_links(path, flags):
    """A descriptor for path, opened folder by folder from / so that no symlink is followed.

    The race-free form of "the path must resolve to itself": a folder swapped for a link after
    a check cannot redirect the open.
    """
    first, *folders, name = os.path.abspath(path).split(os.sep)
    fd = os.open(first or os.sep, _FOLDER)
    try:
        for folder in folders:
            child = os.open(folder, _FOLDER, dir_fd=fd)
            os.close(fd)
            fd = child
        return os.open(name, flags, dir_fd=fd)
    finally:
        os.close(fd)


def open_regular(path):
    """The regular file at path opened for binary reading, or None if it is anything else."""
    try:
        fd = _open_without_links(path, _FILE)
    except OSError as error:
        if error.errno in _REFUSED:
            return None
        raise
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
            return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    return None


def regular_files(folder):
    """[(path relative to folder, size)] of the regular files below folder, no link followed.

    [] if folder is not a directory reached without links.
    """
    try:
        fd = _open_without_links(folder, _FILE | os.O_DIRECTORY)
    except OSError as error:
        if error.errno in _REFUSED:
            return []
        raise
    found = []
    try:
        # fwalk descends through descriptors and never into a link, even one swapped in mid-walk.
        for top, _, names, top_fd in os.fwalk(".", dir_fd=fd):
            for name in names:
                try:
                    info = os.stat(name, dir_fd=top_fd, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(info.st_mode):
                    found.append((os.path.normpath(os.path.join(top, name)), info.st_size))
    finally:
        os.close(fd)
    return found


class CopyRefused(OSError):
    """A copy passed its bounds (bytes, files or time); the message says which."""


CHUNK = 1 << 20
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def copy_tree(source, destination, *, max_bytes, max_files, deadline):
    """Copy the folders and regular files below `source` into the folder `destination` (made
    here; it must be new or empty and ours), reached without links: links, FIFOs, sockets and
    devices are left out, and permissions keep only their rwx bits. Past `max_bytes` (0: no
    bound), `max_files` or the time.monotonic() `deadline` raise CopyRefused. A source that is
    not a folder reached without links copies nothing. Returns (files, bytes) copied."""
    destination = os.path.abspath(destination)
    os.makedirs(destination, exist_ok=True)
    try:
        fd = _open_without_links(source, _FILE | os.O_DIRECTORY)
    except OSError as error:
        if error.errno in _REFUSED:
            return 0, 0
        raise
    budget = {"files": 0, "bytes": 0}
    try:
        for top, _, names, top_fd in os.fwalk(".", dir_fd=fd):
            target = os.path.normpath(os.path.join(destination, top))
            os.makedirs(target, exist_ok=True)
            for name in names:
                _copy_file(name, top_fd, os.path.join(target, name), budget, max_bytes, deadline)
                if budget["files"] > max_files:
                    raise CopyRefused(f"it holds more than {max_files} files")
    finally:
        os.close(fd)
    return budget["files"], budget["bytes"]


def _copy_file(name, dir_fd, target, budget, max_bytes, deadline):
    try:
        source = os.open(name, _FILE, dir_fd=dir_fd)
    except OSError as error:
        if error.errno in _REFUSED:
            return  # a link, or gone meanwhile
        raise
    try:
        info = os.fstat(source)
        if not stat.S_ISREG(info.st_mode):
            return
        fcntl.fcntl(source, fcntl.F_SETFL, fcntl.fcntl(source, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        budget["files"] += 1
        copy = os.open(target, _NEW_FILE, stat.S_IMODE(info.st_mode) & 0o777)
        try:
            while chunk := os.read(source, CHUNK):
                budget["bytes"] += len(chunk)
                if max_bytes and budget["bytes"] > max_bytes:
                    raise CopyRefused(f"they are larger than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise CopyRefused("copying them took too long")
                view = memoryview(chunk)
                while view:
                    view = view[os.write(copy, view) :]
        finally:
            os.close(copy)
    finally:
        os.close(source)
