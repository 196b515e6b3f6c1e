"""One run, step by step. Follow a landing file from `{service}/landing/` to the archive:

1. **Scan** (`ingestor.run.scan`): the service's landing folder is listed once, in name order. Each
   file gets its data type by name, or a reason it has none (no data type matches, ambiguous, an
   unsafe name, not UTF-8); an entry that is no file it can read (a FIFO, a path past the system's
   limits) fails, unopened. Hidden files and folders, data types not asked for and files another task
   of a sharded job takes are left alone. Then the files go part by part (`ingestor.run.parts`: cut by bytes
   and files, in scan order, to fit the memory budget) through the steps 2 to 6, each part's staged
   files deleted before the next part is staged:
2. **Plan** (`ingestor.run.plan`), per data type in catalog order: the ledger says whether this very
   version of the file was loaded already (it is archived without loading again), whether another
   version was (this one begins with it, and only the records appended since are loaded; or it
   does not, and is loaded whole), or neither. The table's live schema is read once per run
   (`ingestor.run.tables`), and kept current by each load for the next part to grow; each file to load
   gets its staging path.
3. **Stage** (`ingestor.staging`): each file is read, validated, normalized and conformed to the
   schema, which grows as records arrive, into one staged file (NDJSON, or Arrow on a warehouse
   that loads it). A file that cannot be read as a whole is rejected here.
4. **Load** (`ingestor.run.load`): the part's staged files of a data type in one load (schema changes,
   rows, ledger entries: all or nothing); refused rows split the batch until the bad file is isolated.
   Several data types load at once where the warehouse allows it.
   The load yields each batch (or half) as it ends, back to the run, which settles its files.
5. **Decide** (`ingestor.run.fate`): what happened to the file in the steps above gives its outcome, in one
   pure function: status, reason, destination.
6. **Settle** (`ingestor.run.settle`): the file is moved where its outcome says (archive/, or rejected/
   with the reason beside it), or stays in landing; a failed move leaves it there as FAILED.

Each file is carried as one record (`fate.Happened`) from the scan to settling: made by the scan, filled in
by each step with what it did (the plan's verdict, staging's rows and checksum, the load's end), settled from. The run's
state is the `Settler`'s (each file's outcome, in its place in scan order) and this module's (per data type,
what its parts did and whether the warehouse failed on it).

Files settle as soon as their fate is known (a rejected file right after staging, a loaded one
right after its load commits); the run's result lists them in scan order whatever the load threads
did: first the entries it cannot read, then the files no data type takes, then each data type's files,
in name order."""

from __future__ import annotations

import itertools
import logging
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import closing
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from ingestor.catalog import DataType
from ingestor.errors import ReasonCode
from ingestor.landing import LandingFile
from ingestor.result import IngestResult, TableLoad
from ingestor.run import faults, lease, stopping
from ingestor.run.context import RunContext
from ingestor.run.fate import Happened, refused
from ingestor.run.ledger import LedgerEntry
from ingestor.run.load import Loader, TypeLoad, load_all
from ingestor.run.parts import Part, cut, matched
from ingestor.run.plan import plan
from ingestor.run.scan import scan
from ingestor.run.settle import Settler
from ingestor.run.staging_folder import staging_folder
from ingestor.run.tables import LiveSchemas
from ingestor.run.views import refresh_views
from ingestor.schema import AddColumn, Kind, SchemaBuilder, Struct, WidenColumn, changes, inserted_at, reconcile
from ingestor.staging import Batch, Staged, StageTask, stage_all
from ingestor.staging.staged import StagedFile
from ingestor.warehouse import LoadError

log = logging.getLogger("ingestor.run.engine")


def run(context: RunContext, services: list[str], unavailable: Mapping[str, str] | None = None) -> IngestResult:
    """Ingest each service's landing files and give what the run did; a service `unavailable` (service -> why:
    disabled, or its plugin broken) is not touched, its outcome says why."""
    result = IngestResult(
        run_id=context.run_id,
        services=services,
        env=context.env,
        data_types=sorted(context.data_types) if context.data_types else None,
        dry_run=context.dry_run,
        landing=context.landing.url,
        warehouse=context.warehouse.url,
        started_at=context.started_at,
    )
    with lease.held(
        context.landing,
        services,
        run_id=context.run_id,
        task_index=context.task_index,
        task_count=context.task_count,
        settings=context.settings.lease,
        dry_run=context.dry_run,
    ):  # one run at a time per service: see lease.py
        settler = Settler(context.landing, context.run_id, context.dry_run, context.on_file)
        try:
            for service in services:
                why = (unavailable or {}).get(service)
                if why is not None:
                    settler.report(refused(service, why, ReasonCode.PLUGIN_ERROR))
                    continue
                with staging_folder() as staging:
                    result.tables += ServiceIngest(service, context, staging, settler).run()
        except (stopping.Terminated, KeyboardInterrupt):  # the history says what the stopped run settled; it goes on
            result.files = settler.outcomes
            _finish(context, result, stopped=True)
            raise
        result.files = settler.outcomes
        _finish(context, result)
    return result


def _finish(context: RunContext, result: IngestResult, *, stopped: bool = False) -> None:
    result.finished_at = datetime.now(UTC)
    if context.history_dataset and not context.dry_run:
        from ingestor.ops.history import record_run

        record_run(context.warehouse, context.history_dataset, result, stopped)


class ServiceIngest:
    """Ingests one service's landing folder: scan, then part by part: per data type plan and stage, then load;
    each file settled (by the run's `settler`) as soon as its fate is known."""

    def __init__(self, service: str, context: RunContext, staging_dir: Path, settler: Settler) -> None:
        self.service = service
        self.ctx = context
        self.staging_dir = staging_dir
        self.settler = settler
        self.schemas = LiveSchemas(context.warehouse)
        self.loader = Loader(context.warehouse, self.schemas, context.run_id, context.history_dataset)
        self._summaries: dict[str, TableLoad] = {}  # by data type: what its parts did, added up
        self._down: dict[str, str] = {}  # data type -> why the warehouse failed on it: its later parts wait

    def run(self) -> list[TableLoad]:
        """Scan once, then part by part stage each requested data type's files and load them; what each data type's
        load did."""
        ctx = self.ctx
        found = scan(self.service, ctx.landing, ctx.catalog, ctx.data_types, ctx.task_index, ctx.task_count)
        if found.refused is not None:
            self.settler.report(refused(self.service, found.refused, ReasonCode.UNSAFE_NAME))
            return []
        failed = [self._record(file, failed_by_scan=why) for file, why in found.failed]
        rejected = [self._record(file, rejected_by_scan=why, scan_code=code) for file, why, code in found.rejected]
        types = [dt for dt in ctx.catalog.types(self.service) if dt.name in found.batches]
        matched = [
            self._record(file, data_type=dt.name, match=match) for dt in types for file, match in found.batches[dt.name]
        ]
        found.batches.clear()
        self.settler.expect(itertools.chain(failed, rejected, matched))  # the result lists them in scan order
        self._settle(failed + rejected)
        for dt in types:
            table = f"{dt.dataset_for(ctx.env)}.{dt.table_for(ctx.env)}"
            self._summaries[dt.name] = TableLoad(service=self.service, data_type=dt.name, table=table, files=0, rows=0)
        budget = ctx.settings.budget
        parts = cut(matched, budget.part_bytes, budget.part_files)
        del matched
        while parts:  # each part let go once done: a backlog's files are not all held to the end
            self._part(parts.pop(0))
        tables = list(self._summaries.values())
        if types and not ctx.dry_run:
            refresh_views(self.service, ctx.env, ctx.views, ctx.warehouse, self.schemas, tables)
        return tables

    def _part(self, part: Part) -> None:
        """Plan, stage, load and settle one part; its staged files are deleted once it settled."""
        started = time.perf_counter()
        folder = self.staging_dir / f"part-{part.number}"
        folder.mkdir()
        paths = (folder / f"{n:07d}.jsonl" for n in itertools.count(1))
        ready = [self._prepare(dt, records, paths) for dt, records in part.batches]
        loads = [self.loader.load(batch) for batch in ready if batch is not None]
        parallel = self.ctx.warehouse.max_parallel_loads
        with closing(load_all(loads, parallel)) as results:  # (closed at once if settling raises: a stop)
            for ended in results:  # the records of a batch, or of a half, whose load ended: settled at once
                for record in ended:
                    assert record.load is not None and record.data_type is not None
                    if record.load.outage and record.load.error:
                        self._down[record.data_type] = record.load.error
                self._settle(ended)
        shutil.rmtree(folder)
        if part.of > 1:
            log.info("%s: %s settled in %.1f s", self.service, part, time.perf_counter() - started)

    # -- one data type's files of a part: plan and stage -------------------------------------------------
    def _prepare(self, dt: DataType, records: list[Happened], paths: Iterator[Path]) -> TypeLoad | None:
        """Plan and stage a part's files of one data type (`paths`: where to stage them); the batch to load, if
        any. Files whose fate is known by then (already loaded, rejected, empty; all of them in a dry run) are
        settled here."""
        ctx = self.ctx
        dataset, table = dt.dataset_for(ctx.env), dt.table_for(ctx.env)
        summary = self._summaries[dt.name]
        if dt.name in self._down:  # each later part would wait out the same outage (a deadline, retries) again
            self._settle(_filled(records, not_tried=self._down[dt.name]))
            return None
        try:
            loaded_before = ctx.warehouse.loaded({dataset}, [h.file.name for h in records])
            stored = self.schemas.get(dataset, table)
        except LoadError as error:  # the warehouse cannot be read: nothing of this type can be decided
            summary.error = self._down[dt.name] = str(error)
            self._settle(_filled(records, unreadable=str(error)))
            return None
        planned = plan(ctx.landing, [(h.file, matched(h)) for h in records], loaded_before, lambda: next(paths))
        tasks: list[StageTask] = []
        for record, p in zip(records, planned, strict=True):
            record.earlier, record.already_loaded = p.earlier, p.task is None
            tasks += [p.task] if p.task is not None else []
        self._settle([h for h in records if h.already_loaded])
        builder, staged = self._stage(dt, tasks, stored, summary)
        to_stage = [h for h in records if not h.already_loaded]
        for record in to_stage:
            record.staged = staged[record.file.name]
        self._settle([h for h in to_stage if _staged(h).reason])  # rejected: settled at once
        ok = [h for h in to_stage if _staged(h).reason is None]
        faults.checkpoint("after_stage")
        schema = reconcile(builder.root, self.schemas.stored(dataset, table))  # (as read, not grown)
        needed = changes(schema)
        summary.columns_added += [str(c) for c in needed if isinstance(c, AddColumn)]
        summary.columns_widened += [str(c) for c in needed if isinstance(c, WidenColumn)]
        summary.notes += [note for note in builder.notes if note not in summary.notes]
        if ctx.dry_run:
            rows = sum(_staged(h).rows for h in ok)
            summary.files, summary.rows = summary.files + len(ok), summary.rows + rows
            if rows:  # the next part is planned against the schema this one would have loaded
                self.schemas.loaded(dataset, table, schema)
            self._settle(ok)
            return None
        self._settle([h for h in ok if not _staged(h).rows])  # empty: archived at once
        files = [(h, self._staged_file(h, dt, f"{dataset}.{table}")) for h in ok if _staged(h).rows]
        return TypeLoad(dt, dataset, table, builder, schema, files, summary)

    def _stage(
        self, dt: DataType, tasks: list[StageTask], stored: Struct | None, summary: TableLoad
    ) -> tuple[SchemaBuilder, dict[str, Staged]]:
        """Stage the files against the table's schema (`stored`, None: no table yet), growing it; the schema
        builder and each file's result, by name."""
        hints = {**dict.fromkeys(dt.column_defaults, Kind.STRING), **dt.schema_hints}
        hints |= {dt.inserted_at_column: Kind.TIMESTAMP, dt.source_file_column: Kind.STRING}
        probe = partial(self.schemas.large_ints, dt.dataset_for(self.ctx.env), dt.table_for(self.ctx.env))
        builder = SchemaBuilder(stored, hints, dt.columns, probe)
        summary.created |= stored is None  # no table before this run: its first part found none
        ctx = self.ctx
        metadata = {dt.inserted_at_column: inserted_at(ctx.started_at, builder.root.get(dt.inserted_at_column))}
        started = time.perf_counter()
        staged = stage_all(Batch(ctx.landing, dt, builder, metadata, ctx.settings), tasks, ctx.warehouse.loads_arrow)
        summary.stage_seconds = round(summary.stage_seconds + time.perf_counter() - started, 3)
        summary.columnar_files += sum(result.columnar for result in staged.values())
        return builder, staged

    def _staged_file(self, record: Happened, dt: DataType, table: str) -> StagedFile:
        """A staged file as the warehouse loads it, with its ledger entry (the checksum of what staging read)."""
        staged = _staged(record)
        assert staged.path is not None and staged.checksum is not None
        entry = LedgerEntry(
            source_name=record.file.name,
            checksum=staged.checksum,
            size=record.file.size,
            service=self.service,
            data_type=dt.name,
            table_name=table,
            rows=staged.rows,
            run_id=self.ctx.run_id,
            loaded_at=self.ctx.started_at,
        )
        return StagedFile(entry=entry, path=staged.path, source=record.file, widest=staged.widest)

    # -- records, decided and settled --------------------------------------------------------------------
    def _record(self, file: LandingFile, **seen: Any) -> Happened:
        """A file's record as the scan made it (`seen`: `Happened`'s fields)."""
        return Happened(file, self.service, dry_run=self.ctx.dry_run, **seen)

    def _settle(self, records: list[Happened]) -> None:
        """Decide each file's fate and carry it out."""
        self.settler.settle(records)


def _filled(records: list[Happened], **seen: Any) -> list[Happened]:
    """The records, each with what the step saw (`seen`: `Happened`'s fields) set."""
    for record in records:
        for name, value in seen.items():
            setattr(record, name, value)
    return records


def _staged(record: Happened) -> Staged:
    assert record.staged is not None
    return record.staged
