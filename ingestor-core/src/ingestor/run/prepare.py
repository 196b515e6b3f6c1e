"""Preparing a part's files of one data type for their load, in three steps:

1. `plan` (the run's thread): the ledger and the table's schema are read, the files found loaded already
   settle, each other file gets its staging task.
2. `stage`: the files are read and conformed against a schema, which grows. It touches no warehouse, so
   the next part stages in a thread while this one loads: against the schema the loading part will leave
   (`ahead`), as if its load had committed.
3. `ready` (the run's thread): a part staged ahead is kept only if that load did commit as a whole, else
   it is staged again against the table as it stands; what staging did settles (rejected and empty files),
   the schema is reconciled with the table, and the batch to load is made.

A file's fate does not depend on whether its part was staged ahead: the result is the one a part staged
after the previous one's load gives."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestor.catalog import DataType
from ingestor.result import TableLoad
from ingestor.run import faults, stopping
from ingestor.run.context import RunContext
from ingestor.run.fate import Happened
from ingestor.run.ledger import LedgerEntry
from ingestor.run.load import TypeLoad
from ingestor.run.parts import matched
from ingestor.run.plan import plan
from ingestor.run.tables import LiveSchemas
from ingestor.schema import (
    AddColumn,
    Kind,
    SchemaBuilder,
    Struct,
    WidenColumn,
    changes,
    inserted_at,
    reconcile,
)
from ingestor.staging import Batch, Staged, StageTask, stage_all
from ingestor.staging.staged import StagedFile
from ingestor.warehouse import LoadError

log = logging.getLogger("ingestor.run.engine")
Settle = Callable[[list[Happened]], None]


@dataclass
class Planned:
    """A part's files of one data type, planned: those to stage (`records`, with their `tasks`) and the schema to
    stage them against (`base`: the table's, None for no table; or, `ahead`, the one a loading part leaves)."""

    dt: DataType
    dataset: str
    table: str
    records: list[Happened]
    tasks: list[StageTask]
    base: Struct | None
    ahead: TypeLoad | None = None  # the loading batch whose schema `base` is: kept only if it commits whole


@dataclass
class StagedType:
    """What staging a data type's planned files gave: the schema grown, each file's result (by name), and the
    time it took."""

    builder: SchemaBuilder
    results: dict[str, Staged]
    seconds: float


class Preparer:
    """Plans, stages and readies one service's parts, data type by data type; settles each file whose fate these
    steps decide."""

    def __init__(self, context: RunContext, schemas: LiveSchemas, settle: Settle, summaries: dict[str, TableLoad]):
        self.ctx = context
        self.schemas = schemas
        self.settle = settle
        self.summaries = summaries  # by data type: what its parts did, added up
        self.down: dict[str, str] = {}  # data type -> why the warehouse failed on it: its later parts wait

    def plan(
        self, dt: DataType, records: list[Happened], paths: Iterator[Path], ahead: TypeLoad | None
    ) -> Planned | None:
        """Read the ledger (and the table's schema, unless staged `ahead` of a loading batch of this table), settle
        the files loaded already, and give each other file its task; None when nothing is left to stage."""
        ctx = self.ctx
        dataset, table = dt.dataset_for(ctx.env), dt.table_for(ctx.env)
        if self._not_tried(dt, records):
            return None
        try:
            loaded_before = ctx.warehouse.loaded({dataset}, [h.file.name for h in records])
            ahead = ahead if ahead is not None and ahead.schema is not None else None
            base = self.schemas.get(dataset, table, ahead.schema if ahead else None)
        except LoadError as error:
            self._unreadable(dt, records, error)
            return None
        planned = plan(ctx.landing, [(h.file, matched(h)) for h in records], loaded_before, lambda: next(paths))
        tasks: list[StageTask] = []
        for record, p in zip(records, planned, strict=True):
            record.earlier, record.already_loaded = p.earlier, p.task is None
            tasks += [p.task] if p.task is not None else []
        self.settle([h for h in records if h.already_loaded])
        to_stage = [h for h in records if not h.already_loaded]
        return Planned(dt, dataset, table, to_stage, tasks, base, ahead) if to_stage else None

    def stage(self, planned: Planned, loaded: threading.Event | None = None) -> StagedType:
        """Stage the planned files against its base schema, growing it. Run `ahead` (in a thread while a load
        runs), a question for the warehouse (does a column hold integers beyond 2^53) waits for `loaded`."""
        dt, ctx = planned.dt, self.ctx
        hints = {**dict.fromkeys(dt.column_defaults, Kind.STRING), **dt.schema_hints}
        hints |= {dt.inserted_at_column: Kind.TIMESTAMP, dt.source_file_column: Kind.STRING}

        dataset, table = planned.dataset, planned.table  # (the builder, kept with the batch, holds no plan: a plan
        # holds the loading batch it was staged ahead of, and a chain of them would keep every part to the run's end)

        def probe(name: str) -> bool:
            if loaded is not None:
                loaded.wait()
                stopping.check()  # (a stopped run's thread asks nothing)
            return self.schemas.large_ints(dataset, table, name)

        builder = SchemaBuilder(planned.base, hints, dt.columns, probe)
        metadata = {dt.inserted_at_column: inserted_at(ctx.started_at, builder.root.get(dt.inserted_at_column))}
        started = time.perf_counter()
        batch = Batch(ctx.landing, dt, builder, metadata, ctx.settings)
        results = stage_all(batch, planned.tasks, ctx.warehouse.loads_arrow)
        return StagedType(builder, results, time.perf_counter() - started)

    def ready(self, planned: Planned, staged: StagedType) -> TypeLoad | None:
        """Settle what staging decided and give the batch to load, if any. A part staged ahead of a load that did
        not commit as a whole is staged again, against the table as it stands."""
        dt, summary = planned.dt, self.summaries[planned.dt.name]
        if planned.ahead is not None and planned.ahead.failed:
            for result in staged.results.values():
                if result.path is not None:
                    result.path.unlink(missing_ok=True)
            if self._not_tried(dt, planned.records):  # (as if this part came after)
                return None
            log.debug("%s: the previous part did not commit whole; staging this one again", dt.key)
            try:
                planned.base, planned.ahead = self.schemas.get(planned.dataset, planned.table), None
            except LoadError as error:
                self._unreadable(dt, planned.records, error)
                return None
            staged = self.stage(planned)
        summary.created |= planned.base is None  # no table before this run: its first part found none
        summary.stage_seconds = round(summary.stage_seconds + staged.seconds, 3)
        summary.columnar_files += sum(result.columnar for result in staged.results.values())
        for record in planned.records:
            record.staged = staged.results[record.file.name]
        self.settle([h for h in planned.records if _staged(h).reason])  # rejected: settled at once
        ok = [h for h in planned.records if _staged(h).reason is None]
        faults.checkpoint("after_stage")
        builder = staged.builder
        # With the table as it stands (any load before has ended), not as grown: what the load must change.
        schema = reconcile(builder.root, self.schemas.stored(planned.dataset, planned.table))
        needed = changes(schema)
        summary.columns_added += [str(c) for c in needed if isinstance(c, AddColumn)]
        summary.columns_widened += [str(c) for c in needed if isinstance(c, WidenColumn)]
        summary.notes += [note for note in builder.notes if note not in summary.notes]
        if self.ctx.dry_run:
            rows = sum(_staged(h).rows for h in ok)
            summary.files, summary.rows = summary.files + len(ok), summary.rows + rows
            if rows:  # the next part is planned against the schema this one would have loaded
                self.schemas.loaded(planned.dataset, planned.table, schema)
            self.settle(ok)
            return None
        self.settle([h for h in ok if not _staged(h).rows])  # empty: archived at once
        table = f"{planned.dataset}.{planned.table}"
        files = [(h, self._staged_file(h, dt, table)) for h in ok if _staged(h).rows]
        return TypeLoad(dt, planned.dataset, planned.table, builder, schema, files, summary)

    def _not_tried(self, dt: DataType, records: list[Happened]) -> bool:
        """Whether the warehouse failed on the data type earlier in the run: then its files are settled untried (each
        later part would wait out the same outage, a deadline or retries, again)."""
        if dt.name not in self.down:
            return False
        self.settle(_filled(records, not_tried=self.down[dt.name]))
        return True

    def _unreadable(self, dt: DataType, records: list[Happened], error: LoadError) -> None:
        """The warehouse cannot be read (the ledger, the table): nothing of the data type can be decided this run."""
        self.summaries[dt.name].error = self.down[dt.name] = str(error)
        self.settle(_filled(records, unreadable=str(error)))

    def _staged_file(self, record: Happened, dt: DataType, table: str) -> StagedFile:
        """A staged file as the warehouse loads it, with its ledger entry (the checksum of what staging read)."""
        staged = _staged(record)
        assert staged.path is not None and staged.checksum is not None
        entry = LedgerEntry(
            source_name=record.file.name,
            checksum=staged.checksum,
            size=record.file.size,
            service=record.service,
            data_type=dt.name,
            table_name=table,
            rows=staged.rows,
            run_id=self.ctx.run_id,
            loaded_at=self.ctx.started_at,
        )
        return StagedFile(entry=entry, path=staged.path, source=record.file, widest=staged.widest)


def _filled(records: list[Happened], **seen: Any) -> list[Happened]:
    """The records, each with what the step saw (`seen`: `Happened`'s fields) set."""
    for record in records:
        for name, value in seen.items():
            setattr(record, name, value)
    return records


def _staged(record: Happened) -> Staged:
    assert record.staged is not None
    return record.staged
