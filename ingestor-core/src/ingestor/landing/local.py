"""The embedded landing zone: a local folder laid out like the bucket."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import unquote, urlparse

from ingestor import faults
from ingestor.landing import FileChanged, LandingFile, UnsafeName, check_name, fitted, numbered

if TYPE_CHECKING:
    from ingestor.settings import Settings

READ_BUFFER = 1024 * 1024


class _Prefix(io.RawIOBase):
    """The first `size` bytes of an unbuffered binary file."""

    def __init__(self, raw: io.FileIO, size: int) -> None:
        self._raw, self._size, self._left = raw, size, size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence != os.SEEK_SET:
            raise io.UnsupportedOperation("only absolute positions")
        position = self._raw.seek(min(offset, self._size))
        self._left = self._size - position
        return position

    def tell(self) -> int:
        return self._size - self._left

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer)[: self._left]
        n = self._raw.readinto(view) if view.nbytes else 0
        self._left -= n or 0
        return n or 0

    def close(self) -> None:
        self._raw.close()
        super().close()


def _check_version(path: Path, file: LandingFile) -> None:
    """Raise FileChanged unless `path` is still the listed version (size and modification time)."""
    try:
        stat = path.stat(follow_symlinks=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{file.name} is no longer in landing") from None
    if stat.st_size != file.size or str(stat.st_mtime_ns) != file.version:
        raise FileChanged(f"{file.name} changed after it was read ({file.size} -> {stat.st_size} bytes)")


class LocalLanding:
    """Files under a root folder; names are POSIX paths relative to it."""

    concurrency = 1  # renames and small reads gain nothing from threads

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
        """Regular files below `prefix` (a folder), sorted; symbolic links are not followed."""
        base = self._path(prefix.rstrip("/"))
        if not base.is_dir():
            return
        found: list[LandingFile] = []
        start = len(str(self.root).rstrip(os.sep)) + 1
        folders = [str(base)]
        while folders:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):  # not a link, a fifo, ...
                        stat = entry.stat(follow_symlinks=False)
                        name = entry.path[start:].replace(os.sep, "/")
                        modified = datetime.fromtimestamp(stat.st_mtime, UTC)
                        found.append(LandingFile(name, stat.st_size, str(stat.st_mtime_ns), modified))
        yield from sorted(found, key=lambda f: f.name)

    def open(self, file: LandingFile) -> AbstractContextManager[IO[bytes]]:
        """Open for reading the listed size: what a writer appends meanwhile is not read (the ledger's size and
        checksum describe exactly the bytes loaded; `move` then sees the change and leaves the file)."""
        return self._reader(file)

    def _reader(self, file: LandingFile) -> io.BufferedReader:
        return io.BufferedReader(_Prefix(self._listed(file.name).open("rb", buffering=0), file.size), READ_BUFFER)

    def checksum(self, file: LandingFile) -> str:
        """sha256 of the content (its listed size)."""
        with self._reader(file) as stream:
            return "sha256:" + hashlib.file_digest(stream, "sha256").hexdigest()

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
        """Write atomically (hidden temporary file, then rename or, for create-only, link)."""
        target = self._path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(fitted(f".{target.name}.{os.getpid()}.tmp"))
        tmp.write_bytes(data)
        try:
            if not create_only:
                os.replace(tmp, target)
                return True
            try:
                os.link(tmp, target)
            except FileExistsError:
                return False
            return True
        finally:
            tmp.unlink(missing_ok=True)

    def read(self, name: str) -> bytes | None:
        """The file's bytes, or None."""
        path = self._path(name)
        return path.read_bytes() if path.is_file() else None

    def close(self) -> None:
        """Nothing to release."""


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _same_content(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        return hashlib.file_digest(fa, "sha256").digest() == hashlib.file_digest(fb, "sha256").digest()


def _prune_empty(folder: Path, stop: Path) -> None:
    """Remove now-empty sub-folders of landing (never `{service}/landing` itself)."""
    while folder != stop and folder.parent != stop and folder.parent.name != "" and folder.name != "landing":
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
