"""One data type's files being staged (`Batch`): where they come from, the schema they grow, each
file's result, and the one fallback for a file whose first staging cannot be kept (`Batch.restage`)."""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ingestor.catalog import DataType
from ingestor.landing import Content, Landing
from ingestor.schema import SchemaBuilder, Struct
from ingestor.staging.row_path import Staged, StageTask, stage_file

if TYPE_CHECKING:
    from ingestor.settings import Settings

log = logging.getLogger("ingestor.staging")
READ_AHEAD_MAX_BYTES = 4 * 1024 * 1024  # on a remote landing zone, smaller files are read ahead in threads


def staging_workers(settings: Settings) -> int:
    """How many files are staged at once (`INGESTOR_WORKERS`, else the CPUs, at most 4, within the memory
    budget): the processes of the row path for a large batch, the threads of the columnar path."""
    return settings.budget.workers(os.cpu_count() or 1)


@dataclass
class Batch:
    """One data type's files being staged: where they come from, the schema they grow, and each
    file's result (`results`, by landing name)."""

    landing: Landing
    dt: DataType
    builder: SchemaBuilder
    metadata: dict[str, Any]  # constant columns
    settings: Settings
    results: dict[str, Staged] = field(default_factory=dict)
    turns: dict[str, int] = field(default_factory=dict)  # file -> builder.json_turns when its row staging began

    def stage(self, task: StageTask, content: Content | None = None) -> None:
        """Stage one file row by row, in this process, against the batch's schema (`content`: the file, read)."""
        self.turns[task.file.name] = self.builder.json_turns
        self.results[task.file.name] = self._stage_file(task, self.builder, content)

    def keep(self, task: StageTask, staged: Staged) -> None:
        """The result of a file staged elsewhere (a worker process, the columnar path)."""
        self.results[task.file.name] = staged

    def restage(self, task: StageTask, why: str, schema: Struct | None = None) -> None:
        """The one fallback: stage a file again, row by row in this process, because its first staging
        cannot be kept (`why`); against `schema` (a copy of the schema at its turn, which it fits, so the
        batch's schema does not change) or else the batch's.

        The file is read from landing again: its staged rows cannot serve, they no longer hold what it
        holds (keys renamed, nulls dropped, values conformed to types a column no longer has). It must
        read as it did the first time (its checksum), else it changed meanwhile and stays in landing."""
        log.debug("%s: staged again row by row (%s)", task.file.name, why)
        first = self.results.get(task.file.name)
        if first is not None and first.checksum is not None:
            task = dataclasses.replace(task, checksum=first.checksum)
        if schema is None:
            self.stage(task)
            return
        self.turns[task.file.name] = -1
        self.results[task.file.name] = self._stage_file(task, SchemaBuilder(copy.deepcopy(schema)))

    def _stage_file(self, task: StageTask, builder: SchemaBuilder, content: Content | None = None) -> Staged:
        """The row path on one file of the batch, against `builder`'s schema, within the budget's record bound."""
        bound = self.settings.budget.record_bytes
        return stage_file(self.landing, self.dt, task, builder, self.metadata, content, max_record_bytes=bound)


def read_ahead(landing: Landing, task: StageTask) -> Content | None:
    """A small file's content and checksum, read by a helper thread while others are staged (a remote
    landing zone: one request each); None when it is large or cannot be read (staging then streams it
    and meets the error itself)."""
    if landing.concurrency <= 1 or task.file.size > READ_AHEAD_MAX_BYTES:
        return None
    try:
        with landing.open(task.file) as stream:
            return Content(stream.read(task.file.size), stream.checksum())
    except Exception:  # any error of the landing zone's client: staging reads the file again and tells it
        return None
