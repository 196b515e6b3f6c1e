"""Where landing files come from and where they go: the interface and its backends."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from ingestor.errors import ReasonCode, RefusedError, TransientError
from ingestor.extras import import_optional

if TYPE_CHECKING:
    from ingestor.settings import Settings

# scheme -> ("module:class", the extra it needs); imported only when used, to keep start-up light.
BACKENDS = {"file": ("ingestor.landing.local:LocalLanding", ""), "gs": ("ingestor.landing.gcs:GCSLanding", "gcp")}
MAX_NAME_BYTES = 255  # of one path segment, on most file systems


class UnsafeName(RefusedError, ValueError):
    """An object name that could escape its service's folders."""

    code = ReasonCode.UNSAFE_NAME


class FileChanged(TransientError, RuntimeError):
    """A file that is no longer the version that was listed (and read): it was rewritten or appended to."""

    code = ReasonCode.CHANGED_DURING_RUN


@dataclass(frozen=True)
class LandingFile:
    """One object of the landing zone, named from the landing root (`garmin/landing/x.jsonl`)."""

    name: str
    size: int
    version: str  # what changes when the object is rewritten (mtime/generation)
    updated: datetime | None = field(default=None, compare=False)  # when it was last written (for ages)
    # why this entry is not read as a file (not a regular file, a file this process may not read, a path past the
    # system's limits, a folder that cannot be listed: then `name` is the folder's, ending in `/`); the scan reports
    # it as failed and nothing opens it
    fault: str | None = None
    # the content checksum the store itself keeps (GCS's md5), known from the listing; None: computed as it is read
    checksum: str | None = field(default=None, compare=False)


class Stream(io.BufferedReader):
    """A landing file's content as it is read, and its `checksum()`: a local file's is computed from the bytes read
    through this stream (what was not read yet is read for it), so a file is read once for both."""

    def __init__(self, raw: io.RawIOBase | io.BufferedIOBase, checksum: Callable[[], str], buffer: int) -> None:
        super().__init__(raw, buffer)  # type: ignore[arg-type]  # (BytesIO: a buffered stream serves as raw too)
        self._checksum = checksum

    @classmethod
    def holding(cls, content: Content) -> Stream:
        """A stream of content already read."""
        return cls(io.BytesIO(content.data), lambda: content.checksum, io.DEFAULT_BUFFER_SIZE)

    def checksum(self) -> str:
        """The checksum of the file's whole content (what the ledger records)."""
        return self._checksum()


@dataclass(frozen=True)
class Content:
    """A landing file's bytes, read whole (a small file read ahead, a file the columnar path handed back), with
    their checksum: what staging reads instead of the landing file."""

    data: bytes
    checksum: str


@dataclass(frozen=True)
class Versioned:
    """A small object's content and the version it was read at (what `replace` and `delete` compare)."""

    data: bytes
    version: str


class Landing(Protocol):
    """A bucket-like store of files with `{service}/landing|archive|rejected/` folders.

    Small state objects (a lease, a rejection reason) are changed only through the conditional primitives
    `create`, `replace` and `delete`, each atomic against the others (in every process using the zone):
    a run never overwrites or removes a version it has not seen."""

    url: str
    concurrency: int  # requests worth making at once: many for a remote store, 1 for a local folder
    local: bool  # a folder of this host (the processes using it are this host's), not a shared remote store

    def list(self, prefix: str) -> Iterator[LandingFile]:
        """Every file whose name starts with `prefix`, in name order."""
        ...

    def open(self, file: LandingFile) -> AbstractContextManager[Stream]:
        """A binary stream of the listed version's content (`file.size` bytes at most), which gives its checksum."""
        ...

    def checksum(self, file: LandingFile) -> str:
        """A content checksum (what the ledger records): GCS's from the listing, a local file's read for it."""
        ...

    def move(self, file: LandingFile, destination: str) -> str:
        """Move a file and return where it went: idempotent, never overwrites another object
        (a free name is chosen with `numbered`), never deletes a newer object under the old name.
        Raises FileChanged if the file is no longer the listed version (nothing moved), and
        FileNotFoundError if it is gone."""
        ...

    def write(self, name: str, data: bytes, *, create_only: bool = False) -> bool:
        """Write a whole object (a rejection reason, a fetched file, a bookmark). With
        `create_only`, as `create`: never replace an existing object and return False if one exists."""
        ...

    def create(self, name: str, data: bytes) -> str | None:
        """Write an object only if none has that name, atomically; its version, or None if one exists."""
        ...

    def replace(self, name: str, data: bytes, version: str) -> str | None:
        """Compare-and-swap: overwrite the object only if it is still at `version`; its new version, or
        None if it changed or is gone (nothing written)."""
        ...

    def delete(self, name: str, version: str) -> bool:
        """Remove the object if it is still at `version`; False if another version is there (it stays).
        An absent object counts as removed (a retried delete)."""
        ...

    def read(self, name: str) -> bytes | None:
        """A small object's content (e.g. a bookmark), or None if absent."""
        ...

    def read_versioned(self, name: str) -> Versioned | None:
        """A small object's content with its version, or None if absent."""
        ...

    def is_folder(self, name: str) -> bool:
        """Whether `name` (`{service}/landing`) is a folder of this zone a run can scan: locally, an
        existing folder inside the root; in a bucket, where folders are name prefixes, any safe name."""
        ...

    def close(self) -> None:
        """Release clients."""
        ...


def check_name(name: str) -> str:
    """Refuse object names with empty, `.` or `..` segments, backslashes or control characters, or that are not
    valid UTF-8 (a local file name may be any bytes)."""
    if not is_utf8(name):
        raise UnsafeName(f"object name '{printable(name)}' is not valid UTF-8 (bytes shown as \\xNN)")
    segments = name.split("/")
    if not name or any(s in ("", ".", "..") for s in segments) or "\\" in name or any(ord(c) < 32 for c in name):
        raise UnsafeName(f"unsafe object name {name!r}")
    return name


def is_utf8(name: str) -> bool:
    """Whether a name is valid UTF-8 text: Python gives a local file name's other bytes as surrogate escapes."""
    try:
        name.encode()
    except UnicodeEncodeError:
        return False
    return True


def printable(name: str) -> str:
    """A name as valid text, to show (a result, a reason, a log line): each byte that is not UTF-8 as `\\xNN`."""
    return name if is_utf8(name) else _bytes(name).decode(errors="backslashreplace")


def utf8_name(name: str) -> str:
    """A name that is not UTF-8 as one that is, reversibly (what such a file is moved to rejected/ under): each byte
    that is not UTF-8 as `%XX`, and `%` itself as `%25`, so `urllib.parse.unquote_to_bytes` gives back the bytes.
    A valid name is returned as it is."""
    if is_utf8(name):
        return name
    return "".join(f"%{ord(c) - 0xDC00:02X}" if "\udc80" <= c <= "\udcff" else "%25" if c == "%" else c for c in name)


def hidden(relative: str) -> bool:
    """Whether a name below a folder is hidden: one of its segments (a folder's or the file's) starts with `.`
    (a fetcher's in-progress `.name.tmp` or `.incoming/` folder, editor files). Runs leave them alone. A `.` or
    `..` segment (possible in a bucket) hides nothing: such a name is unsafe, and rejected."""
    return any(segment.startswith(".") and segment not in (".", "..") for segment in relative.split("/"))


def fitted(filename: str) -> str:
    """A file name (one path segment) of at most MAX_NAME_BYTES: a longer one keeps its extension and as
    much of its start as fits, followed by `~` and a hash of the whole name (so distinct names stay distinct)."""
    encoded = _bytes(filename)
    if len(encoded) <= MAX_NAME_BYTES:
        return filename
    stem, dot, ext = filename.partition(".")
    if len(_bytes(dot + ext)) > 32:  # not an extension: shorten the whole name
        stem, dot, ext = filename, "", ""
    tail = f"~{hashlib.sha256(encoded).hexdigest()[:12]}{dot}{ext}"
    head = _bytes(stem)[: MAX_NAME_BYTES - len(_bytes(tail))].decode(errors="ignore")
    return head + tail


def _bytes(name: str) -> bytes:
    """A name's bytes, those that are not UTF-8 (surrogate escapes) included."""
    return name.encode(errors="surrogateescape")


def _with_filename(name: str, change: Callable[[str], str]) -> str:
    folder, slash, filename = name.rpartition("/")
    return folder + slash + fitted(change(filename))


def numbered(name: str, n: int) -> str:
    """`a/b.jsonl` -> `a/b__n.jsonl`: the n-th alternative to an occupied destination (`fitted`)."""

    def number(filename: str) -> str:
        stem, dot, ext = filename.partition(".")
        return f"{stem}__{n}{dot}{ext}"

    return _with_filename(name, number)


def reason_name(destination: str) -> str:
    """`rejected/b.jsonl` -> `rejected/b.jsonl.reason.json`: where a rejected file's reason goes (`fitted`)."""
    return _with_filename(destination, lambda filename: filename + ".reason.json")


def open_landing(url: str, settings: Settings) -> Landing:
    """The landing backend for a URL (`file:///path`, a plain path, `gs://bucket`), configured by `settings`."""
    scheme = url.split("://", 1)[0] if "://" in url else "file"
    target = BACKENDS.get(scheme)
    if target is None:
        raise ValueError(f"unsupported landing URL {url!r}: use one of {', '.join(s + '://' for s in BACKENDS)}")
    backend = import_optional(*target, f"a {scheme}:// landing zone")
    return backend.from_url(url, settings)  # type: ignore[no-any-return]
