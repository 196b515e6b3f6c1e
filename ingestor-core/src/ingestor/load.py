"""Loading a part's staged files of one data type: one load of the whole batch (schema changes, rows and
ledger entries, all or nothing); when the warehouse refuses the rows, the batch is split in halves until
the bad file is isolated. Each half's end (committed, refused or failed) goes to `done` at once, so the
files of a committed half can be settled while the rest loads."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingestor import faults, stopping
from ingestor.catalog import DataType
from ingestor.errors import RefusedError
from ingestor.fate import Load
from ingestor.result import TableLoad
from ingestor.schema import SchemaBuilder, changes, reconcile
from ingestor.staged import StagedFile
from ingestor.tables import LiveSchemas
from ingestor.warehouse import LoadError, LoadRequest, Warehouse

log = logging.getLogger("ingestor.engine")
Done = Callable[[list[StagedFile], Load], None]


@dataclass
class TypeLoad:
    """One data type's batch, ready to load into `dataset.table`."""

    dt: DataType
    dataset: str
    table: str
    builder: SchemaBuilder  # the schema staging grew
    files: list[StagedFile]
    summary: TableLoad


@dataclass
class Loader:
    """Loads batches into the warehouse and keeps the tables' live schemas current."""

    warehouse: Warehouse
    schemas: LiveSchemas
    run_id: str
    history_dataset: str | None

    def load(self, batch: TypeLoad, done: Done) -> None:
        """Load the whole batch, splitting it on refused data; `done` hears how each half ended."""
        self._load(batch, batch.files, done, attempt=0)

    def _load(self, batch: TypeLoad, files: list[StagedFile], done: Done, attempt: int) -> None:
        if not files:
            return
        stopping.check()  # no load starts once a stop was asked
        dt, summary, started = batch.dt, batch.summary, time.perf_counter()
        try:
            schema = reconcile(batch.builder.root, self.schemas.get(batch.dataset, batch.table))
            request = LoadRequest(
                data_type=dt,
                dataset=batch.dataset,
                table=batch.table,
                schema=schema,
                changes=changes(schema),
                files=files,
                run_id=self.run_id,
                attempt=attempt,
                history_dataset=self.history_dataset,
            )
            report = self.warehouse.load(request)
        except LoadError as error:
            self.schemas.unsure(batch.dataset, batch.table)
            if isinstance(error, RefusedError) and len(files) > 1:
                log.warning(
                    "%s: load of %d files refused (%s); splitting to isolate the bad file", dt.key, len(files), error
                )
                middle = len(files) // 2
                self._load(batch, files[:middle], done, attempt + 1)
                self._load(batch, files[middle:], done, attempt + 1)
                return
            summary.error = str(error)
            done(files, Load(error=str(error), code=error.code))
            return
        self.schemas.loaded(batch.dataset, batch.table, schema)
        faults.checkpoint("after_commit")
        summary.load_seconds += round(time.perf_counter() - started, 3)
        summary.files += len(files)
        summary.rows += report.rows
        summary.job_ids.extend(report.job_ids)
        done(files, Load(notes=tuple(batch.builder.notes)))


def load_all(loads: Sequence[Callable[[], None]], parallel: int) -> None:
    """Run the loads, up to `parallel` at once (the warehouse's `max_parallel_loads`). A stop ends the wait at
    once: loads not begun never start, and those running end at their next wait on the warehouse (see
    `stopping.threads`), never waited for, as a library's retry may hold them."""
    workers = max(1, min(parallel, len(loads)))
    if workers == 1:
        for load in loads:
            load()
        return
    with stopping.threads(workers, "ingestor-load") as pool:
        for future in [pool.submit(load) for load in loads]:
            future.result()
