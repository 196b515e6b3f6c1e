"""A run's staging folder: `ingestor-stage-*` in the temporary folder, where a service's staged files are written
(on Cloud Run, in memory). It is marked live by an exclusive lock (flock) on the folder itself, held while the run
uses it and released by the system when the process ends, however it ends. A run killed outright (SIGKILL, out of
memory) leaves its folder behind: each run first removes the staging folders whose lock is free.

A folder is never removed while its lock is held. Its run takes the lock just after making it, so another run may
find it free in between and remove it: the maker then finds the folder gone (before or once it holds the lock),
and makes another."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

PREFIX = "ingestor-stage-"
log = logging.getLogger("ingestor.run.engine")


@contextlib.contextmanager
def staging_folder(parent: Path | None = None) -> Iterator[Path]:
    """A fresh staging folder in `parent` (the temporary folder), live for the block and removed after it; the
    folders of dead runs are removed first."""
    parent = parent or Path(tempfile.gettempdir())
    remove_dead(parent)
    while True:
        folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
        try:
            lock = _open(folder)
        except FileNotFoundError:  # another run found it free and removed it
            continue
        fcntl.flock(lock, fcntl.LOCK_EX)  # waits while another run, finding it free, removes it
        if os.fstat(lock).st_nlink:  # still there: live from now on
            break
        os.close(lock)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(lock)


def remove_dead(parent: Path) -> None:
    """Remove this user's staging folders in `parent` whose lock is free: their runs died without cleaning up."""
    for folder in sorted(parent.glob(PREFIX + "*")):
        try:
            lock = _open(folder)
        except OSError:  # gone meanwhile, a symbolic link, not a folder
            continue
        try:
            if os.fstat(lock).st_uid != os.getuid():
                continue
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a live run's
                continue
            if not os.fstat(lock).st_nlink:  # another run removed it meanwhile
                continue
            shutil.rmtree(folder)
            log.warning("removed %s: the staging folder of a run that ended without cleaning up (killed)", folder)
        except OSError as error:
            log.warning("could not remove %s, the staging folder of a dead run: %s", folder, error)
        finally:
            os.close(lock)


def _open(folder: Path) -> int:
    return os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
