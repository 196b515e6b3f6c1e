"""The embedded landing zone: a local folder laid out like the bucket.

Conditional changes of small objects (`create`, `replace`, `delete`) hold one `flock` on the root folder,
so each compares and writes as one step for every process of this host (see `_locked` and `_version`)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from ingestor.landing import (
    FileChanged,
    LandingFile,
    Stream,
    UnsafeName,
    Versioned,
    check_name,
    fitted,
    numbered,
    printable,
)
from ingestor.landing.reading import Listed, buffer_for
from ingestor.landing.walk import walk
from ingestor.run import faults

if TYPE_CHECKING:
    from ingestor.settings import Settings


def _check_version(path: Path, file: LandingFile) -> None:
    """Raise FileChanged unless `path` is still the listed version (size and modification time)."""
    try:
        stat = path.stat(follow_symlinks=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{printable(file.name)} is no longer in landing") from None
    if stat.st_size != file.size or str(stat.st_mtime_ns) != file.version:
        raise FileChanged(f"{printable(file.name)} changed after it was read ({file.size} -> {stat.st_size} bytes)")


class LocalLanding:
    """Files under a root folder; names are POSIX paths relative to it."""

    concurrency = 1  # renames and small reads gain nothing from threads
    local = True

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.url = self.root.as_uri()
        self._folders: dict[str, str] = {}  # folder name -> its real path, checked to be inside the root

    @classmethod
    def from_url(cls, url: str, settings: Settings | None = None) -> LocalLanding:
        """`file:///abs/path` or a plain path (no settings apply)."""
        if url.startswith("file://"):
            return cls(Path(unquote(urlparse(url).path)))
        return cls(Path(url))

    def _path(self, name: str) -> Path:
        return self._inside(check_name(name))

    def _listed(self, name: str) -> Path:
        """The path of a file `list` found. Its name may hold what `check_name` refuses in names we make (a
        backslash or a control character is legal in a POSIX file name): it must still be movable to rejected/."""
        if ".." in name.split("/"):
            raise UnsafeName(f"object name {name!r} leaves the landing root")
        return self._inside(name)

    def _inside(self, name: str) -> Path:
        """The path of `name`, refused if a symbolic link on the way leads out of the root. Each folder's real
        path is found once per run (resolving every component of every path cost ~0.1 ms a call)."""
        folder, _, leaf = name.rpartition("/")
        real = self._folders.get(folder)
        if real is None:
            real = os.path.realpath(os.path.join(self.root, folder))
            if not _within(real, str(self.root)):
                raise UnsafeName(f"object name {name!r} leaves the landing root")
            self._folders[folder] = real
        path = os.path.join(real, leaf)
        if os.path.islink(path) and not _within(os.path.realpath(path), str(self.root)):
            raise UnsafeName(f"object name {name!r} leaves the landing root")
        return Path(path)

    def list(self, prefix: str) -> Iterator[LandingFile]:
        """Every entry below `prefix` (a folder), sorted; what is not a regular file carries its `fault` (`walk`)."""
        base = self._path(prefix.rstrip("/"))
        if not base.is_dir():
            return
        yield from sorted(walk(str(self.root), str(base)), key=lambda f: f.name)

    def open(self, file: LandingFile) -> AbstractContextManager[Stream]:
        """Open for reading the listed size: what a writer appends meanwhile is not read (the ledger's size and
        checksum describe exactly the bytes loaded; `move` then sees the change and leaves the file). Its checksum
        is the sha256 of the bytes read through it."""
        raw = Listed(self._listed(file.name).open("rb", buffering=0), file.size)
        return Stream(raw, raw.checksum, buffer_for(file.size))

    def checksum(self, file: LandingFile) -> str:
        """sha256 of the content (its listed size)."""
        with self.open(file) as stream:
            return stream.checksum()

    def move(self, file: LandingFile, destination: str) -> str:
        """Rename within the root without overwriting: an identical file already at the
        destination (an interrupted earlier move) just gets the source removed."""
        source = self._listed(file.name)
        self._path(destination)  # an unsafe destination is refused before the source is even looked at
        _check_version(source, file)
        n, name = 1, destination
        while True:
            target = self._path(name)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(source, target)  # fails if the name was taken meanwhile
                faults.checkpoint("mid_move")  # test-only: destination linked, source not yet removed
                try:
                    _check_version(source, file)  # changed between the first check and the link
                except FileChanged:
                    target.unlink()
                    raise
                break
            if _same_content(source, target):
                break
            n += 1
            name = numbered(destination, n)
        source.unlink()
        _prune_empty(source.parent, stop=self.root)
        return name

    def write(self, name: str, data: bytes, *, create_only: bool = False) -> bool:
        """Write atomically (a hidden temporary file, then renamed into place)."""
        if create_only:
            return self.create(name, data) is not None
        self._put(name, data, exclusive=False)
        return True

    def create(self, name: str, data: bytes) -> str | None:
        """A hard link to a complete temporary file: `link` fails if the name exists."""
        with self._locked():
            return self._put(name, data, exclusive=True)

    def replace(self, name: str, data: bytes, version: str) -> str | None:
        """Read, compare and rename over it, all under the lock (see `_locked`)."""
        with self._locked():
            current = self.read_versioned(name)
            if current is None or current.version != version:
                return None
            return self._put(name, data, exclusive=False)

    def delete(self, name: str, version: str) -> bool:
        """Read, compare and unlink under the lock; a folder left empty goes too (as in a bucket)."""
        with self._locked():
            current = self.read_versioned(name)
            if current is None:
                return True
            if current.version != version:
                return False
            path = self._path(name)
            path.unlink()
            _prune_empty(path.parent, stop=self.root)
            return True

    def read(self, name: str) -> bytes | None:
        """The file's bytes, or None."""
        current = self.read_versioned(name)
        return None if current is None else current.data

    def read_versioned(self, name: str) -> Versioned | None:
        """The file's bytes and version (`_version`), read through one open file."""
        path = self._path(name)
        if not path.is_file():
            return None
        try:
            with path.open("rb") as stream:
                stat, data = os.fstat(stream.fileno()), stream.read()
        except FileNotFoundError:  # removed since
            return None
        return Versioned(data, _version(stat, data))

    def is_folder(self, name: str) -> bool:
        """An existing folder inside the root (not a symbolic link out of it, which the scan reports)."""
        try:
            return self._path(name).is_dir()
        except UnsafeName:
            return False

    def _put(self, name: str, data: bytes, *, exclusive: bool) -> str | None:
        """Write a hidden temporary file beside the target, then rename it over the target or, `exclusive`,
        link it to the target's name (None if that is taken); the version written."""
        target = self._path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(fitted(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp"))
        try:  # a write that fails (a full disk) leaves no partial temporary file behind either
            tmp.write_bytes(data)
            version = _version(tmp.stat(), data)  # the same file, once linked or renamed into place
            if exclusive:
                os.link(tmp, target)
            else:
                os.replace(tmp, target)
        except FileExistsError:
            return None
        finally:
            tmp.unlink(missing_ok=True)
        return version

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive `flock` on the root folder (made if need be, by a first fetch), held by every conditional change
        (create, replace, delete), by every process and thread of this host: each one's read, comparison
        and write happen as one step, and a delete never prunes a folder a create is writing into. Plain
        `write`s, `move`s and reads take no lock: renames and links are atomic by themselves."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def close(self) -> None:
        """Nothing to release."""


def _version(stat: os.stat_result, data: bytes) -> str:
    """A small object's version. Every write makes a new file (renamed or linked into place, never changed in
    place) while the one it replaces still holds its inode, so the inode changes with each write; with the
    modification time and the content's digest, a version repeats only if an inode number freed earlier comes
    back within one clock tick (a few milliseconds) with the very same bytes."""
    return f"{stat.st_ino}.{stat.st_mtime_ns}.{hashlib.sha256(data).hexdigest()[:32]}"


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _same_content(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        return hashlib.file_digest(fa, "sha256").digest() == hashlib.file_digest(fb, "sha256").digest()


def _prune_empty(folder: Path, stop: Path) -> None:
    """Remove now-empty folders from `folder` up, below a service's folder (never `{service}/landing`
    itself, nor the service's folder)."""
    while folder != stop and folder.parent != stop and folder.parent.name != "" and folder.name != "landing":
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
