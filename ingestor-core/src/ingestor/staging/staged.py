"""The staged-file contract between staging and the warehouse: one landing file's conformed rows on disk."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingestor.landing import LandingFile
from ingestor.run.ledger import LedgerEntry

ARROW_SUFFIX = ".arrow"  # a staged file of Arrow IPC; any other is NDJSON


@dataclass
class StagedFile:
    """The conformed rows of one landing file on local disk: NDJSON (`.jsonl`), or Arrow IPC
    (ARROW_SUFFIX, only for a warehouse whose `loads_arrow` is True)."""

    entry: LedgerEntry
    path: Path
    source: LandingFile
    widest: int = 0  # bytes of the longest NDJSON row


def unstaged(message: str, files: Iterable[StagedFile]) -> str:
    """A warehouse's `message` with each staged file's path told as the landing file it holds: a reason never
    quotes an internal staging path (`JSON transform error in the staged rows of fz/landing/a.jsonl, in line 3`)."""
    for file in files:
        path = str(file.path)
        if path in message:
            told = f"the staged rows of {file.source.name}"
            message = message.replace(f'file "{path}"', told).replace(f'"{path}"', told).replace(path, told)
    return message
