"""What the environment's faults say (issue 21, items 5 and 9): a landing file that cannot be read is the
environment's fault, not the file's."""

from __future__ import annotations

import errno
import io
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO

from ingestor.catalog import DataType
from ingestor.fate import Happened, decide
from ingestor.landing import LandingFile
from ingestor.landing.local import LocalLanding
from ingestor.result import FileStatus
from ingestor.row_path import StageTask, stage_file
from ingestor.schema import SchemaBuilder

NAME = "fz/landing/2025_01_01_fz_events.jsonl"
EVENTS = DataType(service="fz", name="events", dataset="fz_{env}", table="events")


class _FailingDisk(io.RawIOBase):
    """A file whose disk fails after its first bytes (EIO), as a dying disk or a lost network mount does."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        assert (offset, whence) == (0, io.SEEK_SET)  # staging starts at the start
        return 0

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self.first:
            raise OSError(errno.EIO, "Input/output error")
        n = min(len(buffer), len(self.first))
        buffer[:n], self.first = self.first[:n], self.first[n:]
        return n


class _FailingLanding(LocalLanding):
    def open(self, file: LandingFile) -> AbstractContextManager[IO[bytes]]:
        return io.BufferedReader(_FailingDisk(b'{"uid": 1}\n'), 4)


def test_a_landing_file_that_cannot_be_read_stays_in_landing(tmp_path: Path) -> None:
    """Before: any OSError while reading was taken for corrupt gzip data, and the good file rejected."""
    file = LandingFile(NAME, 100, "1")
    task = StageTask(file, {}, tmp_path / "0000001.jsonl")
    staged = stage_file(_FailingLanding(tmp_path), EVENTS, task, SchemaBuilder(), {})
    assert (staged.failed, staged.reason, staged.rows) == (True, "[Errno 5] Input/output error", 0)
    assert not task.path.exists()
    fate = decide(Happened(file, "fz", "events", staged=staged))
    assert (fate.status, fate.reason, fate.destination) == (
        FileStatus.FAILED, "staging failed, left in landing: [Errno 5] Input/output error", None
    )  # fmt: skip
