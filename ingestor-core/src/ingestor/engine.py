"""One run, step by step. Follow a landing file from `{service}/landing/` to the archive:

1. **Scan** (`ingestor.scan`): the service's landing folder is listed once, in name order. Each
   file gets its data type by name, or a reason it has none (no data type matches, ambiguous, an
   unsafe name, not UTF-8); an entry that is no file it can read (a FIFO, a path past the system's
   limits) fails, unopened. Hidden files and folders, data types not asked for and files another task
   of a sharded job takes are left alone. Then the files go part by part (`ingestor.parts`: cut by bytes
   and files, in scan order, to fit the memory budget) through the steps 2 to 6, each part's staged
   files deleted before the next part is staged:
2. **Plan** (`ingestor.plan`), per data type in catalog order: the ledger says whether this very
   version of the file was loaded already (it is archived without loading again), whether another
   version was (this one begins with it, and only the records appended since are loaded; or it
   does not, and is loaded whole), or neither. The table's live schema is read once per run
   (`ingestor.tables`), and kept current by each load for the next part to grow; each file to load
   gets its staging path.
3. **Stage** (`ingestor.staging`): each file is read, validated, normalized and conformed to the
   schema, which grows as records arrive, into one staged file (NDJSON, or Arrow on a warehouse
   that loads it). A file that cannot be read as a whole is rejected here.
4. **Load** (`ingestor.load`): the part's staged files of a data type in one load (schema changes,
   rows, ledger entries: all or nothing); refused rows split the batch until the bad file is isolated.
   Several data types load at once where the warehouse allows it.
5. **Decide** (`ingestor.fate`): what happened to the file in the steps above (`Happened`) gives
   its outcome, in one pure function: status, reason, destination.
6. **Settle** (`ingestor.settle`): the file is moved where its outcome says (archive/, or rejected/
   with the reason beside it), or stays in landing; a failed move leaves it there as FAILED.

Files settle as soon as their fate is known (a rejected file right after staging, a loaded one
right after its load commits); the run's result lists them in scan order whatever the load threads
did: first the entries it cannot read, then the files no data type takes, then each data type's files,
in name order."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from ingestor import faults, lease, stopping
from ingestor.catalog import DataType
from ingestor.context import RunContext, ServiceResult
from ingestor.errors import ReasonCode
from ingestor.fate import Happened, Load, decide, refused
from ingestor.hookspecs import hookimpl
from ingestor.landing import LandingFile
from ingestor.ledger import LedgerEntry
from ingestor.load import Loader, TypeLoad, load_all
from ingestor.parts import Found, Part, cut
from ingestor.plan import plan
from ingestor.result import FileOutcome, IngestResult, TableLoad
from ingestor.scan import scan
from ingestor.schema import AddColumn, Kind, SchemaBuilder, Struct, WidenColumn, changes, inserted_at, reconcile
from ingestor.settle import Settler
from ingestor.staged import StagedFile
from ingestor.staging import Batch, Staged, StageTask, stage_all
from ingestor.staging_folder import staging_folder
from ingestor.tables import LiveSchemas
from ingestor.views import refresh_views
from ingestor.warehouse import LoadError

log = logging.getLogger("ingestor.engine")


def run(context: RunContext, services: list[str], ingest: Callable[..., ServiceResult | None]) -> IngestResult:
    """Ingest each service through the `ingest` hook and collect the result."""
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
        settled: list[FileOutcome] = []  # as files settle: what a stopped run did
        tell = context.on_file

        def on_file(outcome: FileOutcome) -> None:
            settled.append(outcome)
            tell(outcome)

        context = dataclasses.replace(context, on_file=on_file)
        try:
            for service in services:
                produced = ingest(service=service, context=context)
                if produced is None:
                    raise RuntimeError(f"no plugin ingested service {service!r}")
                result.files.extend(produced.files)
                result.tables.extend(produced.tables)
        except (stopping.Terminated, KeyboardInterrupt):  # the history says what the stopped run settled; it goes on
            result.files = settled
            _finish(context, result, stopped=True)
            raise
        _finish(context, result)
    return result


def _finish(context: RunContext, result: IngestResult, *, stopped: bool = False) -> None:
    result.finished_at = datetime.now(UTC)
    if context.history_dataset and not context.dry_run:
        from ingestor.history import record_run

        record_run(context.warehouse, context.history_dataset, result, stopped)


class DefaultIngest:
    """The core's generic engine, registered as the last `ingest` implementation."""

    @hookimpl(trylast=True)
    def ingest(self, service: str, context: RunContext) -> ServiceResult:
        """Ingest every landing file of `service`, staged in a staging folder of its own."""
        with staging_folder() as staging:
            return ServiceIngest(service, context, staging).run()


class ServiceIngest:
    """Ingests one service's landing folder: scan, then part by part: per data type plan and stage, then load."""

    def __init__(self, service: str, context: RunContext, staging_dir: Path) -> None:
        self.service = service
        self.ctx = context
        self.staging_dir = staging_dir
        self.result = ServiceResult()
        self.schemas = LiveSchemas(context.warehouse)
        self.settler = Settler(context.landing, context.run_id, context.dry_run, context.on_file)
        self.loader = Loader(context.warehouse, self.schemas, context.run_id, context.history_dataset)
        self._summaries: dict[str, TableLoad] = {}  # by data type: what its parts did, added up
        self._down: dict[str, str] = {}  # data type -> why the warehouse failed on it: its later parts wait
        self._waiting: dict[str, Happened] = {}  # staged files to load, by name: their fate waits for the load

    def run(self) -> ServiceResult:
        """Scan once, then part by part stage each requested data type's files and load them; list the outcomes
        in scan order."""
        ctx = self.ctx
        found = scan(self.service, ctx.landing, ctx.catalog, ctx.data_types, ctx.task_index, ctx.task_count)
        if found.refused is not None:
            self.settler.report(refused(self.service, found.refused, ReasonCode.UNSAFE_NAME))
            self.result.files = list(self.settler.settled.values())
            return self.result
        self._settle([self._happened(file, None, failed_by_scan=why) for file, why in found.failed])
        rejected = found.rejected
        self._settle([self._happened(file, None, rejected_by_scan=why, scan_code=code) for file, why, code in rejected])
        types = [dt for dt in ctx.catalog.types(self.service) if dt.name in found.batches]
        for dt in types:
            table = f"{dt.dataset_for(ctx.env)}.{dt.table_for(ctx.env)}"
            self._summaries[dt.name] = TableLoad(service=self.service, data_type=dt.name, table=table, files=0, rows=0)
        self.result.tables = list(self._summaries.values())
        order = [file.name for file, _ in found.failed] + [file.name for file, *_ in found.rejected]
        order += [file.name for dt in types for file, _ in found.batches[dt.name]]
        budget = ctx.settings.budget
        parts = cut((f for dt in types for f in found.batches.pop(dt.name)), budget.part_bytes, budget.part_files)
        while parts:  # each part let go once done: a backlog's files are not all held to the end
            self._part(parts.pop(0))
        if types and not ctx.dry_run:
            refresh_views(self.service, ctx.env, ctx.views, ctx.warehouse, self.schemas, self.result.tables)
        self.result.files = [self.settler.settled[name] for name in order]
        return self.result

    def _part(self, part: Part) -> None:
        """Plan, stage, load and settle one part; its staged files are deleted once it settled."""
        started = time.perf_counter()
        folder = self.staging_dir / f"part-{part.number}"
        folder.mkdir()
        paths = (folder / f"{n:07d}.jsonl" for n in itertools.count(1))
        ready = [self._prepare(dt, files, paths) for dt, files in part.batches]
        loads = [partial(self.loader.load, batch, self._loaded) for batch in ready if batch is not None]
        load_all(loads, getattr(self.ctx.warehouse, "max_parallel_loads", 1))
        shutil.rmtree(folder)
        if part.of > 1:
            log.info("%s: %s settled in %.1f s", self.service, part, time.perf_counter() - started)

    # -- one data type's files of a part: plan and stage -------------------------------------------------
    def _prepare(self, dt: DataType, files: list[Found], paths: Iterator[Path]) -> TypeLoad | None:
        """Plan and stage a part's files of one data type (`paths`: where to stage them); the batch to load, if
        any. Files whose fate is known by then (already loaded, rejected, empty; all of them in a dry run) are
        settled here."""
        ctx = self.ctx
        dataset, table = dt.dataset_for(ctx.env), dt.table_for(ctx.env)
        summary = self._summaries[dt.name]
        if dt.name in self._down:  # each later part would wait out the same outage (a deadline, retries) again
            self._settle([self._happened(file, dt, not_tried=self._down[dt.name]) for file, _ in files])
            return None
        try:
            loaded_before = ctx.warehouse.loaded({dataset}, [f.name for f, _ in files])
            stored = self.schemas.get(dataset, table)
        except LoadError as error:  # the warehouse cannot be read: nothing of this type can be decided
            summary.error = self._down[dt.name] = str(error)
            self._settle([self._happened(file, dt, unreadable=str(error)) for file, _ in files])
            return None
        planned = plan(ctx.landing, files, loaded_before, lambda: next(paths))
        self._settle([self._happened(p.file, dt, already_loaded=True) for p in planned if p.task is None])
        builder, staged = self._stage(dt, [p.task for p in planned if p.task is not None], stored, summary)
        happened = [
            self._happened(p.file, dt, earlier=p.earlier, staged=staged[p.file.name]) for p in planned if p.task
        ]
        self._settle([h for h in happened if h.staged and h.staged.reason])  # rejected: settled at once
        ok = [h for h in happened if h.staged and h.staged.reason is None]
        faults.checkpoint("after_stage")
        schema = reconcile(builder.root, self.schemas.get(dataset, table))  # (as read, not grown)
        needed = changes(schema)
        summary.columns_added += [str(c) for c in needed if isinstance(c, AddColumn)]
        summary.columns_widened += [str(c) for c in needed if isinstance(c, WidenColumn)]
        summary.notes += [note for note in builder.notes if note not in summary.notes]
        if ctx.dry_run:
            rows = sum(staged[h.file.name].rows for h in ok)
            summary.files, summary.rows = summary.files + len(ok), summary.rows + rows
            if rows:  # the next part is planned against the schema this one would have loaded
                self.schemas.loaded(dataset, table, schema)
            self._settle(ok)
            return None
        self._settle([h for h in ok if not staged[h.file.name].rows])  # empty: archived at once
        to_load = [h for h in ok if staged[h.file.name].rows]
        self._waiting.update({h.file.name: h for h in to_load})
        checksums = {p.file.name: p.checksum for p in planned}
        table_name = f"{dataset}.{table}"
        files_to_load = [self._staged_file(h.file, staged[h.file.name], dt, table_name, checksums) for h in to_load]
        return TypeLoad(dt, dataset, table, builder, files_to_load, summary)

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

    def _staged_file(
        self, file: LandingFile, staged: Staged, dt: DataType, table: str, checksums: dict[str, str]
    ) -> StagedFile:
        """A staged file as the warehouse loads it, with its ledger entry."""
        assert staged.path is not None
        entry = LedgerEntry(
            source_name=file.name,
            checksum=checksums[file.name],
            size=file.size,
            service=self.service,
            data_type=dt.name,
            table_name=table,
            rows=staged.rows,
            run_id=self.ctx.run_id,
            loaded_at=self.ctx.started_at,
        )
        return StagedFile(entry=entry, path=staged.path, source=file, widest=staged.widest)

    # -- decide and settle -------------------------------------------------------------------------
    def _loaded(self, files: list[StagedFile], load: Load) -> None:
        """Files of a batch (all, or a half split off on refused rows) ended their load: their fates are known."""
        if load.outage and load.error:
            self._down[files[0].entry.data_type] = load.error
        self._settle([dataclasses.replace(self._waiting.pop(f.source.name), load=load) for f in files])

    def _happened(self, file: LandingFile, dt: DataType | None, **seen: Any) -> Happened:
        """The record of what happened to `file` (of data type `dt`) in this run: `seen`, `Happened`'s fields."""
        return Happened(file, self.service, dt.name if dt is not None else None, self.ctx.dry_run, **seen)

    def _settle(self, happened: list[Happened]) -> None:
        """Decide each file's fate and carry it out."""
        self.settler.settle((h.file, decide(h)) for h in happened)
