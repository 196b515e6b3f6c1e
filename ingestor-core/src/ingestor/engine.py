"""One run: scan -> match -> read/validate/normalize -> stage -> evolve schema -> load
(+ ledger) -> archive or reject. The fate of every landing file is decided here."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
import uuid
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import orjson

from ingestor import faults, lease
from ingestor.catalog import AmbiguousFile, Catalog, DataType, Match, View
from ingestor.hookspecs import hookimpl
from ingestor.landing import FileChanged, Landing, LandingFile, UnsafeName, check_name, fitted, reason_name
from ingestor.ledger import LedgerEntry
from ingestor.result import FileOutcome, FileStatus, IngestResult, TableLoad
from ingestor.schema import AddColumn, Kind, SchemaBuilder, WidenColumn, changes, inserted_at, reconcile
from ingestor.settings import Settings
from ingestor.staged import StagedFile
from ingestor.staging import Batch, Staged, StageTask, stage_all
from ingestor.warehouse import LoadError, LoadRequest, Warehouse

log = logging.getLogger("ingestor.engine")
NO_MATCH = "no data type matches"
CHECKSUM_THREADS_MIN_BYTES = 1024 * 1024  # average file size from which checksums are computed in threads


@dataclass
class RunContext:
    """Everything a run needs; handed to the `ingest` hook."""

    env: str
    landing: Landing
    warehouse: Warehouse
    catalog: Catalog
    settings: Settings
    data_types: set[str] | None = None
    dry_run: bool = False
    views: list[View] = field(default_factory=list)
    task_index: int = 0
    task_count: int = 1
    run_id: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8])
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    staging_dir: Path | None = None
    history_dataset: str | None = None  # where the run history goes (see ingestor.history); None: nowhere
    on_file: Callable[[FileOutcome], None] = lambda outcome: None


@dataclass
class ServiceResult:
    """What ingesting one service produced."""

    files: list[FileOutcome] = field(default_factory=list)
    tables: list[TableLoad] = field(default_factory=list)


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
    with (
        tempfile.TemporaryDirectory(prefix="ingestor-stage-", dir=context.staging_dir) as staging,
        lease.held(
            context.landing,
            services,
            run_id=context.run_id,
            task_index=context.task_index,
            task_count=context.task_count,
            settings=context.settings.lease,
            dry_run=context.dry_run,
        ),
    ):  # one run at a time per service: see lease.py
        context.staging_dir = Path(staging)
        for service in services:
            produced = ingest(service=service, context=context)
            if produced is None:
                raise RuntimeError(f"no plugin ingested service {service!r}")
            result.files.extend(produced.files)
            result.tables.extend(produced.tables)
        result.finished_at = datetime.now(UTC)
        if context.history_dataset and not context.dry_run:
            _record_history(context.warehouse, context.history_dataset, result)
    return result


def _record_history(warehouse: Warehouse, dataset: str, result: IngestResult) -> None:
    """Append the run's row and its outcomes not recorded by a load; a failure is logged, never fatal
    (the files are where the result says, and the loaded ones are in the history already)."""
    from ingestor.history import run_rows

    assert result.finished_at is not None
    try:
        warehouse.append_history(dataset, run_rows(result, result.finished_at))
    except Exception as error:
        log.error("the run history could not be written to %s: %s", dataset, error)


class DefaultIngest:
    """The core's generic engine, registered as the last `ingest` implementation."""

    @hookimpl(trylast=True)
    def ingest(self, service: str, context: RunContext) -> ServiceResult:
        """Ingest every landing file of `service`."""
        return ServiceIngest(service, context).run()


def _empty_reason(staged: Staged) -> str | None:
    """Why a file gave no rows: it had no records, or the normalizer dropped them all."""
    if staged.rows:
        return None
    if staged.dropped:
        return f"no rows: the normalizer dropped all {staged.dropped} records"
    return "empty file: no records"


def owns(key: str, task_index: int, task_count: int) -> bool:
    """Whether this task (of `task_count` parallel ones) takes the work named `key`."""
    return task_count <= 1 or zlib.crc32(key.encode()) % task_count == task_index


def _appended_to(landing: Landing, file: LandingFile, earlier: LedgerEntry) -> bool:
    """Whether `file` is `earlier` (a version the ledger holds) with whole lines (or gzip members) appended:
    its first `earlier.size` bytes hash to the earlier checksum (sha256 locally, md5 on GCS) and end a line."""
    algorithm, _, digest = earlier.checksum.partition(":")
    if file.size <= earlier.size or algorithm not in {"sha256", "md5"}:
        return False
    hasher, left, last = hashlib.new(algorithm), earlier.size, b"\n"
    with landing.open(file) as stream:
        while left:
            chunk = stream.read(min(left, 1 << 20))
            if not chunk:
                return False
            hasher.update(chunk)
            left, last = left - len(chunk), chunk[-1:]
    return (last == b"\n" or file.name.endswith(".gz")) and hasher.hexdigest() == digest


def _safe_relative(relative: str) -> str:
    """A relative path with no segment that could climb out of a folder."""
    segments = [s if s not in ("", ".", "..") else "_" for s in relative.replace("\\", "/").split("/")]
    return "/".join(fitted("".join(c if ord(c) >= 32 else "_" for c in s)) for s in segments)


class ServiceIngest:
    """Ingests one service's landing folder."""

    def __init__(self, service: str, context: RunContext) -> None:
        self.service = service
        self.ctx = context
        self.prefix = f"{service}/landing/"
        self.result = ServiceResult()
        self._loads: list[Callable[[], None]] = []
        self._staged = 0

    # -- the run -------------------------------------------------------------
    def run(self) -> ServiceResult:
        """Scan once, then load each requested data type's batch."""
        batches: dict[str, list[tuple[LandingFile, Match]]] = {}
        try:
            listed = list(self.ctx.landing.list(self.prefix))
        except UnsafeName as error:  # its landing folder is a symbolic link out of the root
            reason = f"service {self.service} refused: {error}; nothing of it was read or moved"
            self._report(FileOutcome(path=self.prefix, service=self.service, status=FileStatus.FAILED, reason=reason))
            return self.result
        for file in listed:
            relative = file.name[len(self.prefix) :]
            if relative.rsplit("/", 1)[-1].startswith("."):
                continue  # hidden files: in-progress writes, editor files
            try:
                check_name(file.name)
                match = self.ctx.catalog.match(self.service, relative.rsplit("/", 1)[-1])
            except (UnsafeName, AmbiguousFile) as error:
                if owns(f"{self.service}.", self.ctx.task_index, self.ctx.task_count):
                    self._reject(file, None, str(error))
                continue
            if match is None:
                if owns(f"{self.service}.", self.ctx.task_index, self.ctx.task_count):
                    self._reject(file, None, NO_MATCH)
                continue
            if self.ctx.data_types and match.data_type.name not in self.ctx.data_types:
                continue
            if not owns(match.data_type.key, self.ctx.task_index, self.ctx.task_count):
                continue  # another task of this job takes it
            batches.setdefault(match.data_type.name, []).append((file, match))
        for data_type in self.ctx.catalog.types(self.service):
            if data_type.name in batches:
                self._ingest_type(data_type, batches[data_type.name])
        self._run_loads()
        if batches and not self.ctx.dry_run:
            self._refresh_views()
        return self.result

    def _refresh_views(self) -> None:
        """Recreate this service's views over the tables that exist."""
        env, warehouse = self.ctx.env, self.ctx.warehouse
        for view in self.ctx.views:
            if view.service != self.service:
                continue
            sources = [
                (s.dataset.format(env=env), s.table.format(env=env), s.columns, s.constants)
                for s in view.sources
                if warehouse.table_schema(s.dataset.format(env=env), s.table.format(env=env)) is not None
            ]
            if not sources:
                continue
            try:
                warehouse.ensure_view(
                    view.dataset.format(env=env), view.name.format(env=env), list(view.columns), sources
                )
            except Exception as error:
                message = (
                    f"view {view.dataset.format(env=env)}.{view.name.format(env=env)} could not be refreshed: {error}"
                )
                log.error(message)
                for table in self.result.tables:
                    table.notes.append(message)

    def _ingest_type(self, dt: DataType, files: list[tuple[LandingFile, Match]]) -> None:
        env, warehouse = self.ctx.env, self.ctx.warehouse
        dataset, table = dt.dataset_for(env), dt.table_for(env)
        summary = TableLoad(service=self.service, data_type=dt.name, table=f"{dataset}.{table}", files=0, rows=0)
        self.result.tables.append(summary)
        try:
            loaded_before = warehouse.loaded({dataset}, [f.name for f, _ in files])
            stored = warehouse.table_schema(dataset, table)
        except LoadError as error:  # the warehouse cannot be read: nothing of this type can be decided
            self._unreadable(dt, [file for file, _ in files], summary, error)
            return
        hints = {**dict.fromkeys(dt.column_defaults, Kind.STRING), **dt.schema_hints}
        hints |= {dt.inserted_at_column: Kind.TIMESTAMP, dt.source_file_column: Kind.STRING}
        summary.created = stored is None
        builder = SchemaBuilder(stored, hints, dt.columns)
        tasks: list[StageTask] = []
        already: list[tuple[LandingFile, FileOutcome]] = []
        checksums = self._checksums([file for file, _ in files])
        earlier: dict[str, str] = {}  # name -> what an earlier version of it loaded (a reason's first part)
        for file, match in files:
            versions = loaded_before.get(file.name, [])
            if checksums[file.name] in {v.checksum for v in versions}:
                reason = "the ledger shows it loaded; archived without loading again"
                outcome = FileOutcome(
                    path=file.name,
                    service=self.service,
                    data_type=dt.name,
                    status=FileStatus.ALREADY_LOADED,
                    reason=reason,
                )
                already.append((file, outcome))
                continue
            skip = 0
            if versions:  # another version of it was loaded: changed during that run, or delivered again
                last = max(versions, key=lambda v: (v.loaded_at, v.size))  # the latest version loaded
                loaded = f"an earlier version of it ({last.size} bytes, {last.rows} records) was loaded by run "
                if _appended_to(self.ctx.landing, file, last):
                    skip = last.size
                    earlier[file.name] = f"{loaded}{last.run_id}; only the records appended after it were loaded now"
                else:
                    earlier[file.name] = f"{loaded}{last.run_id}; this version does not begin with it: loaded whole"
            self._staged += 1
            assert self.ctx.staging_dir is not None
            path = self.ctx.staging_dir / f"{self._staged:07d}.jsonl"
            tasks.append(StageTask(file, match.attributes, path, skip))
        self._settle_all(already)
        metadata = {dt.inserted_at_column: inserted_at(self.ctx.started_at, builder.root.get(dt.inserted_at_column))}
        done: dict[str, tuple[StageTask, Staged]] = {}
        started = time.perf_counter()
        batch = Batch(
            self.ctx.landing,
            dt,
            builder,
            metadata,
            lambda t, result: done.__setitem__(t.file.name, (t, result)),
            self.ctx.settings,
        )
        stage_all(batch, tasks, columnar=warehouse.loads_arrow)
        summary.stage_seconds = round(time.perf_counter() - started, 3)
        summary.columnar_files = sum(result.columnar for _, result in done.values())
        staged: list[tuple[StagedFile, FileOutcome]] = []
        for task in tasks:
            _, result = done[task.file.name]
            if result.reason is not None:
                self._reject(task.file, dt.name, result.reason)
                continue
            entry = LedgerEntry(
                source_name=task.file.name,
                checksum=checksums[task.file.name],
                size=task.file.size,
                service=self.service,
                data_type=dt.name,
                table_name=f"{dataset}.{table}",
                rows=result.rows,
                run_id=self.ctx.run_id,
                loaded_at=self.ctx.started_at,
            )
            outcome = FileOutcome(
                path=task.file.name,
                service=self.service,
                data_type=dt.name,
                status=FileStatus.LOADED,
                rows=result.rows,
                dropped=result.dropped,
                null_lines=result.null_lines,
                reason=earlier.get(task.file.name) or _empty_reason(result),
            )
            assert result.path is not None
            staged.append((StagedFile(entry=entry, path=result.path, source=task.file, widest=result.widest), outcome))
        faults.checkpoint("after_stage")
        try:
            schema = reconcile(builder.root, warehouse.table_schema(dataset, table))
        except LoadError as error:
            self._unreadable(dt, [s.source for s, _ in staged], summary, error)
            return
        planned = changes(schema)
        summary.columns_added = [str(c) for c in planned if isinstance(c, AddColumn)]
        summary.columns_widened = [str(c) for c in planned if isinstance(c, WidenColumn)]
        summary.notes = list(builder.notes)
        nonempty = [(s, o) for s, o in staged if s.entry.rows]
        if self.ctx.dry_run:
            for stage, outcome in staged:
                outcome.status = FileStatus.PLANNED if stage.entry.rows else FileStatus.EMPTY
                self._settle(stage.source, outcome)
            summary.files, summary.rows = len(staged), sum(s.entry.rows for s, _ in staged)
            return
        empty = [(s.source, o) for s, o in staged if not s.entry.rows]
        for _, outcome in empty:
            outcome.status = FileStatus.EMPTY
        self._settle_all(empty)
        self._loads.append(partial(self._load, dt, dataset, table, builder, nonempty, summary))

    def _checksums(self, files: list[LandingFile]) -> dict[str, str]:
        """Each file's checksum: in threads when the files are large (hashing frees the GIL),
        else one after the other (threads cost more than they save on small files)."""
        checksum = self.ctx.landing.checksum
        if sum(f.size for f in files) < len(files) * CHECKSUM_THREADS_MIN_BYTES:
            return {f.name: checksum(f) for f in files}
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="ingestor-checksum") as pool:
            return {f.name: c for f, c in zip(files, pool.map(checksum, files), strict=True)}

    def _run_loads(self) -> None:
        """Run the queued loads, several data types at once where the warehouse allows it."""
        workers = max(1, min(getattr(self.ctx.warehouse, "max_parallel_loads", 1), len(self._loads)))
        if workers == 1:
            for load in self._loads:
                load()
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingestor-load") as pool:
                for future in [pool.submit(load) for load in self._loads]:
                    future.result()
        self._loads.clear()

    # -- loading ---------------------------------------------------------------
    def _load(
        self,
        dt: DataType,
        dataset: str,
        table: str,
        builder: SchemaBuilder,
        batch: list[tuple[StagedFile, FileOutcome]],
        summary: TableLoad,
        attempt: int = 0,
    ) -> None:
        """Load a batch in one go; on refused data, split it to isolate the bad file(s)."""
        if not batch:
            return
        started = time.perf_counter()
        try:
            schema = reconcile(builder.root, self.ctx.warehouse.table_schema(dataset, table))
            request = LoadRequest(
                data_type=dt,
                dataset=dataset,
                table=table,
                schema=schema,
                changes=changes(schema),
                files=[s for s, _ in batch],
                run_id=self.ctx.run_id,
                attempt=attempt,
                history_dataset=self.ctx.history_dataset,
            )
            report = self.ctx.warehouse.load(request)
        except LoadError as error:
            if error.data_error and len(batch) > 1:
                log.warning(
                    "%s: load of %d files refused (%s); splitting to isolate the bad file", dt.key, len(batch), error
                )
                middle = len(batch) // 2
                self._load(dt, dataset, table, builder, batch[:middle], summary, attempt + 1)
                self._load(dt, dataset, table, builder, batch[middle:], summary, attempt + 1)
                return
            summary.error = str(error)
            for _, outcome in batch:
                outcome.rows = 0
                if error.data_error:
                    outcome.status, outcome.reason = FileStatus.REJECTED, f"the warehouse refused the rows: {error}"
                else:
                    outcome.status, outcome.reason = FileStatus.FAILED, f"load failed, left in landing: {error}"
            self._settle_all([(s.source, o) for s, o in batch])
            return
        faults.checkpoint("after_commit")
        summary.load_seconds += round(time.perf_counter() - started, 3)
        summary.files += len(batch)
        summary.rows += report.rows
        summary.job_ids.extend(report.job_ids)
        for _, outcome in batch:
            outcome.notes = list(builder.notes)
        self._settle_all([(s.source, o) for s, o in batch])

    # -- settling --------------------------------------------------------------
    def _unreadable(self, dt: DataType, files: list[LandingFile], summary: TableLoad, error: LoadError) -> None:
        """Fail the files of a type whose table or ledger could not be read: left for the next run."""
        summary.error = str(error)
        reason = f"the warehouse could not be read, left in landing: {error}"

        def failed(file: LandingFile) -> FileOutcome:
            return FileOutcome(
                path=file.name, service=self.service, data_type=dt.name, status=FileStatus.FAILED, reason=reason
            )

        self._settle_all([(file, failed(file)) for file in files])

    def _reject(self, file: LandingFile, data_type: str | None, reason: str) -> None:
        self._settle(
            file,
            FileOutcome(
                path=file.name, service=self.service, data_type=data_type, status=FileStatus.REJECTED, reason=reason
            ),
        )

    def _settle(self, file: LandingFile, outcome: FileOutcome) -> None:
        """Move the file to where its outcome says (unless dry run) and report it."""
        self._place(file, outcome)
        self._report(outcome)

    def _settle_all(self, settled: list[tuple[LandingFile, FileOutcome]]) -> None:
        """`_settle` for many files: moved several at once where the landing zone is remote,
        reported in order."""
        workers = min(self.ctx.landing.concurrency, len(settled))
        if workers <= 1:
            for file, outcome in settled:
                self._settle(file, outcome)
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingestor-move") as pool:
            for _ in pool.map(lambda item: self._place(*item), settled):
                pass
        for _, outcome in settled:
            self._report(outcome)

    def _place(self, file: LandingFile, outcome: FileOutcome) -> None:
        """Move the file to where its outcome says (unless dry run); a failed move makes it FAILED."""
        outcome.bytes = file.size
        relative = _safe_relative(file.name[len(self.prefix) :])
        if outcome.status is FileStatus.REJECTED and self.ctx.dry_run:
            outcome.status = FileStatus.WOULD_REJECT
        if outcome.status in {FileStatus.LOADED, FileStatus.EMPTY, FileStatus.ALREADY_LOADED}:
            outcome.destination = f"{self.service}/archive/{relative}"
        elif outcome.status is FileStatus.REJECTED:
            outcome.destination = f"{self.service}/rejected/{relative}"
        if not self.ctx.dry_run and outcome.destination:
            try:
                rejected = outcome.status is FileStatus.REJECTED
                if rejected:  # before the move (a crash leaves no reasonless file), never over an earlier file's
                    self.ctx.landing.write(
                        reason_name(outcome.destination), self._reason(file, outcome), create_only=True
                    )
                faults.checkpoint("before_move")
                outcome.destination = self.ctx.landing.move(file, outcome.destination)
                if rejected:  # the reason beside where the file went (maybe a numbered name)
                    self.ctx.landing.write(reason_name(outcome.destination), self._reason(file, outcome))
            except (FileChanged, FileNotFoundError) as error:  # a writer or another process acted meanwhile
                done = f"{outcome.rows} records loaded, " if outcome.status is FileStatus.LOADED else ""
                fate = "left in landing for the next run" if isinstance(error, FileChanged) else "nothing to move"
                log.error("%s: not moved to %s: %s", file.name, outcome.destination, error)
                outcome.reason = f"{outcome.reason + '; ' if outcome.reason else ''}{done}but {error}: {fate}"
                outcome.status, outcome.destination = FileStatus.FAILED, None
            except Exception as error:
                log.error("%s: could not move to %s: %s", file.name, outcome.destination, error)
                outcome.reason = (
                    f"{outcome.reason + '; ' if outcome.reason else ''}move failed, left in landing: {error}"
                )
                outcome.status, outcome.destination = FileStatus.FAILED, None

    def _report(self, outcome: FileOutcome) -> None:
        """Log the outcome and add it to the run's result."""
        log_at = logging.WARNING if outcome.status in {FileStatus.REJECTED, FileStatus.FAILED} else logging.INFO
        why = f" ({outcome.reason})" if outcome.reason else ""
        log.log(log_at, "%s: %s%s", outcome.path, outcome.status.value, why)
        self.result.files.append(outcome)
        self.ctx.on_file(outcome)

    def _reason(self, file: LandingFile, outcome: FileOutcome) -> bytes:
        return orjson.dumps(
            {
                "file": file.name,
                "destination": outcome.destination,
                "data_type": outcome.data_type,
                "reason": outcome.reason,
                "run_id": self.ctx.run_id,
                "rejected_at": datetime.now(UTC).isoformat(),
            },
            option=orjson.OPT_INDENT_2,
        )
