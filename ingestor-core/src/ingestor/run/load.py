"""Loading a part's staged files of one data type: one load of the whole batch (schema changes, rows and
ledger entries, all or nothing); when the warehouse refuses the rows, the batch is split in halves until
the bad file is isolated. The load is a generator: it yields the records of each half as it ends (committed,
refused or failed, in `Happened.load`), so that the files of a committed half settle while the rest loads."""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass

from ingestor.catalog import DataType
from ingestor.errors import RefusedError
from ingestor.result import TableLoad
from ingestor.run import faults, stopping
from ingestor.run.fate import Happened, Load
from ingestor.run.tables import LiveSchemas
from ingestor.schema import SchemaBuilder, Struct, changes, reconcile
from ingestor.staging.staged import StagedFile
from ingestor.warehouse import LoadError, LoadRequest, Warehouse

log = logging.getLogger("ingestor.run.engine")
Ended = list[Happened]  # the records of files whose load ended, each with its `load`


@dataclass
class TypeLoad:
    """One data type's batch, ready to load into `dataset.table`: each file's record with its staged file."""

    dt: DataType
    dataset: str
    table: str
    builder: SchemaBuilder  # the schema staging grew
    schema: Struct | None  # the builder's, reconciled with the table as it stands (None: read it again)
    files: list[tuple[Happened, StagedFile]]
    summary: TableLoad
    failed: bool = False  # a load of it (or of a half) failed: the table may not be as `schema` says


@dataclass
class Loader:
    """Loads batches into the warehouse and keeps the tables' live schemas current."""

    warehouse: Warehouse
    schemas: LiveSchemas
    run_id: str
    history_dataset: str | None

    def load(self, batch: TypeLoad) -> Iterator[Ended]:
        """Load the whole batch, splitting it on refused data; yields the records of each half as it ends."""
        yield from self._load(batch, batch.files, attempt=0)

    def _load(self, batch: TypeLoad, files: list[tuple[Happened, StagedFile]], attempt: int) -> Iterator[Ended]:
        if not files:
            return
        stopping.check()  # no load starts once a stop was asked
        dt, summary, started = batch.dt, batch.summary, time.perf_counter()
        try:
            if batch.schema is None:  # a load failed: the table is read again
                batch.schema = reconcile(batch.builder.root, self.schemas.stored(batch.dataset, batch.table))
            request = LoadRequest(
                data_type=dt,
                dataset=batch.dataset,
                table=batch.table,
                schema=batch.schema,
                changes=changes(batch.schema),
                files=[staged for _, staged in files],
                run_id=self.run_id,
                attempt=attempt,
                history_dataset=self.history_dataset,
            )
            report = self.warehouse.load(request)
        except LoadError as error:
            self.schemas.unsure(batch.dataset, batch.table)
            batch.schema, batch.failed = None, True
            if isinstance(error, RefusedError) and len(files) > 1:
                log.warning(
                    "%s: load of %d files refused (%s); splitting to isolate the bad file", dt.key, len(files), error
                )
                middle = len(files) // 2
                yield from self._load(batch, files[:middle], attempt + 1)
                yield from self._load(batch, files[middle:], attempt + 1)
                return
            summary.error = str(error)
            yield _ended(files, Load(error=str(error), code=error.code))
            return
        self.schemas.loaded(batch.dataset, batch.table, batch.schema)  # (its columns are stored now)
        faults.checkpoint("after_commit")
        summary.load_seconds += round(time.perf_counter() - started, 3)
        summary.files += len(files)
        summary.rows += report.rows
        summary.job_ids.extend(report.job_ids)
        yield _ended(files, Load(notes=tuple(batch.builder.notes)))


def _ended(files: list[tuple[Happened, StagedFile]], load: Load) -> Ended:
    for record, _ in files:
        record.load = load
    return [record for record, _ in files]


def load_all(loads: Sequence[Iterator[Ended]], parallel: int) -> Generator[Ended, None, None]:
    """Run the loads, up to `parallel` at once (the warehouse's `max_parallel_loads`), and yield what each
    yields as it ends, in the caller's thread. A stop ends the wait at once: loads not begun never start,
    and those running end at their next wait on the warehouse (see `stopping.threads`), never waited for,
    as a library's retry may hold them."""
    workers = max(1, min(parallel, len(loads)))
    if workers == 1:
        for load in loads:
            yield from load
        return
    ended: queue.Queue[tuple[Ended | None, BaseException | None]] = queue.Queue()

    def drain(load: Iterator[Ended]) -> None:
        try:
            for records in load:
                ended.put((records, None))
        except BaseException as error:  # raised where the run waits for it, below
            ended.put((None, error))
        else:
            ended.put((None, None))

    with stopping.threads(workers, "ingestor-load") as pool:
        for load in loads:
            pool.submit(drain, load)
        running = len(loads)
        while running:
            records, error = ended.get()
            if error is not None:
                raise error
            if records is None:
                running -= 1
            else:
                yield records
