"""Parts: a service's files, loaded a bounded piece at a time, so that a backlog of any size drains within the
memory budget and a run killed midway keeps every part it committed.

The files a scan gave (each data type's, in catalog order, each in name order: scan order) are cut into parts of
at most `part_bytes` landing bytes and `part_files` files; a file larger than `part_bytes` is a part of its own.
The engine plans, stages, loads and settles one part, and deletes its staged files, before it stages the next.
A part's files of one data type load as one batch, its data types side by side where the warehouse allows it;
a run whose files fit in one part runs as a single one."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from ingestor.catalog import DataType, Match
from ingestor.run.fate import Happened


@dataclass(frozen=True)
class Part:
    """The `number`-th part of a service's files (from 1, `of` in all): its files of each data type, in the order
    given."""

    number: int
    of: int
    batches: list[tuple[DataType, list[Happened]]]

    def __str__(self) -> str:
        return f"part {self.number} of {self.of} ({self.files} files, {self.bytes} bytes)"

    @property
    def files(self) -> int:
        return sum(len(files) for _, files in self.batches)

    @property
    def bytes(self) -> int:
        return sum(record.file.size for _, records in self.batches for record in records)


def cut(files: Iterable[Happened], max_bytes: int, max_files: int) -> list[Part]:
    """The parts of `files` (the records of files a data type matched, in the order given): each holds at most
    `max_files` files and `max_bytes` bytes, but for a single larger file."""
    cuts: list[list[Happened]] = []
    size = 0
    for record in files:
        if not cuts or len(cuts[-1]) >= max_files or size + record.file.size > max_bytes:
            cuts.append([])
            size = 0
        cuts[-1].append(record)
        size += record.file.size
    return [Part(number, len(cuts), _by_type(part)) for number, part in enumerate(cuts, 1)]


def _by_type(files: list[Happened]) -> list[tuple[DataType, list[Happened]]]:
    groups = (list(group) for _, group in itertools.groupby(files, key=lambda record: record.data_type))
    return [(matched(group[0]).data_type, group) for group in groups]


def matched(record: Happened) -> Match:
    """The data type a record of a part matched (every file of a part matched one)."""
    assert record.match is not None, f"{record.file.name}: no data type to load it as"
    return record.match
