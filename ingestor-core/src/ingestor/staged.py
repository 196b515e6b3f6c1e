"""The staged-file contract between staging and the warehouse: one landing file's conformed rows on disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingestor.landing import LandingFile
from ingestor.ledger import LedgerEntry

ARROW_SUFFIX = ".arrow"  # a staged file of Arrow IPC; any other is NDJSON


@dataclass
class StagedFile:
    """The conformed rows of one landing file on local disk: NDJSON (`.jsonl`), or Arrow IPC
    (ARROW_SUFFIX, only for a warehouse whose `loads_arrow` is True)."""

    entry: LedgerEntry
    path: Path
    source: LandingFile
    widest: int = 0  # bytes of the longest NDJSON row
