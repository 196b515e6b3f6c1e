"""Reading a landing file once: the raw streams under a `Stream`. A local file's listed bytes, hashed as they are read
(its checksum comes from the read that stages it), and a GCS object's listed generation, in ranged downloads up to its
listed size (each byte downloaded once, no request past the end)."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ingestor.landing import FileChanged

if TYPE_CHECKING:
    from google.cloud.storage import Blob

READ_BUFFER = 1024 * 1024  # what a stream reads at a time (its lines are found in this buffer)
READ_CHUNK = 8 * 1024 * 1024  # bytes a ranged read of a GCS object downloads


def buffer_for(size: int) -> int:
    """The read buffer of a stream of `size` bytes: READ_BUFFER, or room for the whole of a smaller file (a
    backlog's tiny files each paid for a 1 MiB buffer, more than for their staging)."""
    return min(READ_BUFFER, size + 1)


class Listed(io.RawIOBase):
    """The first `size` bytes of an unbuffered binary file (its listed size), hashed as they are read."""

    def __init__(self, raw: io.FileIO, size: int) -> None:
        self._raw, self._size, self._left = raw, size, size
        self._hash: hashlib._Hash | None = hashlib.sha256()  # None once a seek skipped bytes: no checksum

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence != os.SEEK_SET:
            raise io.UnsupportedOperation("only absolute positions")
        if offset != self.tell():
            self._hash = None
        position = self._raw.seek(min(offset, self._size))
        self._left = self._size - position
        return position

    def tell(self) -> int:
        return self._size - self._left

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer)[: self._left]
        n = (self._raw.readinto(view) if view.nbytes else 0) or 0
        self._left -= n
        if self._hash is not None:
            self._hash.update(view[:n])
        return n

    def checksum(self) -> str:
        """sha256 of the whole content: what is left of it is read (and hashed) first."""
        if self._hash is None:
            raise io.UnsupportedOperation("a stream read from an offset has no checksum")
        if self._left:  # (a buffer for what is left only: zeroing 1 MiB per file cost more than staging a tiny one)
            rest = bytearray(min(READ_BUFFER, self._left))
            while self._left and self.readinto(rest):
                pass
        return "sha256:" + self._hash.hexdigest()

    def close(self) -> None:
        self._raw.close()
        super().close()


class Ranges(io.RawIOBase):
    """An object's generation read in ranged downloads of READ_CHUNK bytes, up to its listed `size`: the end is
    known, so no request is made past it (a generation that is gone fails the first read: NotFound)."""

    def __init__(self, blob: Blob, size: int, call: Callable[[], dict[str, Any]]) -> None:
        self._blob, self._size, self._call = blob, size, call
        self._chunk, self._offset, self._position = memoryview(b""), 0, 0  # the chunk holds bytes from position on

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET:
            raise io.UnsupportedOperation("only absolute positions")
        self._chunk, self._offset, self._position = memoryview(b""), 0, min(offset, self._size)
        return self._position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._offset == len(self._chunk):
            if self._position >= self._size:
                return 0
            end = min(self._position + READ_CHUNK, self._size) - 1  # inclusive
            data = self._blob.download_as_bytes(start=self._position, end=end, checksum=None, **self._call())
            self._chunk, self._offset = memoryview(data), 0
            if not data:  # shorter than listed: not the listed generation
                raise FileChanged(f"{self._blob.name} is shorter than listed")
        n = min(len(buffer), len(self._chunk) - self._offset)
        memoryview(buffer)[:n] = self._chunk[self._offset : self._offset + n]
        self._offset += n
        self._position += n
        return n
