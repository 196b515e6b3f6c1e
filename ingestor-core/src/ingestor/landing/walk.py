"""Listing a local folder: every entry below it, as it is on disk, without opening a file.

A regular file is a `LandingFile`. Anything else is listed too, with its `fault` (what the scan reports, and
why nothing opens it: opening a FIFO blocks, a device or a socket is not data): a symbolic link (not followed,
as everywhere in a local landing zone), a FIFO, a socket, a device, a file this process may not read, an entry
whose path is past the system's limits (`PATH_MAX`: it cannot even be looked at), and a folder that cannot be
listed (unreadable, or past the limits), named with a trailing `/`; what is below such a folder stays unseen, and
the rest is listed."""

from __future__ import annotations

import errno
import os
import stat
from datetime import UTC, datetime

from ingestor.landing import LandingFile

KINDS = {
    stat.S_IFLNK: "a symbolic link, not followed",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def walk(root: str, folder: str) -> list[LandingFile]:
    """The entries below `folder` (a path inside `root`), named from `root` with `/`, in no particular order."""
    start = len(root.rstrip(os.sep)) + 1
    found: list[LandingFile] = []
    folders = [folder]
    while folders:
        current = folders.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    name = entry.path[start:].replace(os.sep, "/")
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            folders.append(entry.path)
                        else:
                            found.append(_entry(name, entry.path, entry.stat(follow_symlinks=False)))
                    except OSError as error:
                        found.append(LandingFile(name, 0, "", fault=f"it cannot be looked at ({_cause(error)})"))
        except OSError as error:
            why = f"the folder cannot be listed ({_cause(error)}): nothing below it was read"
            found.append(LandingFile(current[start:].replace(os.sep, "/") + "/", 0, "", fault=why))
    return found


def _entry(name: str, path: str, status: os.stat_result) -> LandingFile:
    """A regular file, or any other entry with what it is."""
    fault = None
    if not stat.S_ISREG(status.st_mode):
        fault = f"not a regular file ({_kind(status.st_mode)})"
    elif not os.access(path, os.R_OK):
        fault = f"it cannot be read ({os.strerror(errno.EACCES)})"
    modified = datetime.fromtimestamp(status.st_mtime, UTC)
    return LandingFile(name, status.st_size, str(status.st_mtime_ns), modified, fault)


def _kind(mode: int) -> str:
    return KINDS.get(stat.S_IFMT(mode), f"file type {stat.S_IFMT(mode):o}")


def _cause(error: OSError) -> str:
    """The system's message without the path (which may be thousands of bytes long, or not UTF-8)."""
    return error.strerror or type(error).__name__
