"""One run, step by step. Follow a landing file from `{service}/landing/` to the archive:

1. **Scan** (`ingestor.run.scan`): the service's landing folder is listed once, in name order. Each
   file gets its data type by name, or a reason it has none (no data type matches, ambiguous, an
   unsafe name, not UTF-8); an entry that is no file it can read (a FIFO, a path past the system's
   limits) fails, unopened. Hidden files and folders, data types not asked for and files another task
   of a sharded job takes are left alone. Then the files go part by part (`ingestor.run.parts`: cut by bytes
   and files, in scan order, to fit the memory budget) through the steps 2 to 6, each part's staged
   files deleted once it settled. While a part loads, the next one is staged (`ingestor.run.prepare`:
   against the schema the load leaves, and again should it not commit whole), so at most two parts are
   staged at once:
2. **Plan** (`ingestor.run.plan`), per data type in catalog order: the ledger says whether this very
   version of the file was loaded already (it is archived without loading again), whether another
   version was (this one begins with it, and only the records appended since are loaded; or it
   does not, and is loaded whole), or neither. The table's live schema is read once per run
   (`ingestor.run.tables`), and kept current by each load for the next part to grow; each file to load
   gets its staging path. The next part is planned before this one loads (the warehouse serves one
   step at a time).
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
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestor.errors import ReasonCode
from ingestor.landing import LandingFile
from ingestor.result import IngestResult, TableLoad
from ingestor.run import lease, stopping
from ingestor.run.context import RunContext
from ingestor.run.fate import Happened, refused
from ingestor.run.load import Loader, TypeLoad, load_all
from ingestor.run.parts import Part, cut
from ingestor.run.prepare import Planned, Preparer, StagedType
from ingestor.run.scan import scan
from ingestor.run.settle import Settler
from ingestor.run.staging_folder import staging_folder
from ingestor.run.tables import LiveSchemas
from ingestor.run.views import refresh_views

log = logging.getLogger("ingestor.run.engine")


def run(context: RunContext, services: list[str], unavailable: Mapping[str, str] | None = None) -> IngestResult:
    """Ingest each service's landing files and give what the run did; a service `unavailable` (service -> why:
    disabled, or its plugin broken) is not touched, its outcome says why."""
    result = IngestResult(services=services, **context.header())
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
    each file settled (by the run's `settler`) as soon as its fate is known. While a part loads, the next one
    stages (`ingestor.run.prepare`)."""

    def __init__(self, service: str, context: RunContext, staging_dir: Path, settler: Settler) -> None:
        self.service = service
        self.ctx = context
        self.staging_dir = staging_dir
        self.settler = settler
        self.schemas = LiveSchemas(context.warehouse)
        self.loader = Loader(context.warehouse, self.schemas, context.run_id, context.history_dataset)
        self._summaries: dict[str, TableLoad] = {}  # by data type: what its parts did, added up
        self.prepare = Preparer(context, self.schemas, settler.settle, self._summaries)

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
        self.settler.settle(failed + rejected)
        for dt in types:
            table = f"{dt.dataset_for(ctx.env)}.{dt.table_for(ctx.env)}"
            self._summaries[dt.name] = TableLoad(service=self.service, data_type=dt.name, table=table, files=0, rows=0)
        budget = ctx.settings.budget
        parts = cut(matched, budget.part_bytes, budget.part_files)
        del matched
        if parts:
            self._parts(parts)
        tables = list(self._summaries.values())
        if types and not ctx.dry_run:
            refresh_views(self.service, ctx.env, ctx.views, ctx.warehouse, self.schemas, tables)
        return tables

    def _parts(self, parts: list[Part]) -> None:
        """Each part planned, staged, loaded and settled in turn, its staged files deleted once it settled (each
        part let go once done: a backlog's files are not all held to the end). The next part is planned before
        a part loads, and staged while it loads (a dry run, which loads nothing, stages them in turn)."""
        part = parts.pop(0)
        started = time.perf_counter()
        ready = [self.prepare.ready(p, staged) for p, staged in self._stage_all(self._plan(part, []), None)]
        with stopping.threads(1, "ingestor-ahead") as ahead:
            while True:
                following = parts.pop(0) if parts else None
                staging: Future[list[tuple[Planned, StagedType]]] | None = None
                loaded = threading.Event()
                if following is not None:
                    planned = self._plan(following, [] if self.ctx.dry_run else ready)
                    staging = ahead.submit(self._stage_all, planned, None if self.ctx.dry_run else loaded)
                    if self.ctx.dry_run:  # nothing loads meanwhile: the next part stages against this one's schema
                        staging.result()
                try:
                    self._load(ready)
                finally:
                    loaded.set()
                shutil.rmtree(self._folder(part))
                if part.of > 1:
                    log.info("%s: %s settled in %.1f s", self.service, part, time.perf_counter() - started)
                if following is None or staging is None:
                    return
                part, started = following, time.perf_counter()
                ready = [self.prepare.ready(p, staged) for p, staged in staging.result()]

    def _plan(self, part: Part, loading: list[TypeLoad | None]) -> list[Planned]:
        """Plan a part's files, data type by data type; those staged while `loading` loads are staged against the
        schema its batch of the same table leaves."""
        folder = self._folder(part)
        folder.mkdir()
        paths = (folder / f"{n:07d}.jsonl" for n in itertools.count(1))
        batches = {(b.dataset, b.table): b for b in loading if b is not None}
        ctx = self.ctx
        planned = [
            self.prepare.plan(dt, records, paths, batches.get((dt.dataset_for(ctx.env), dt.table_for(ctx.env))))
            for dt, records in part.batches
        ]
        return [p for p in planned if p is not None]

    def _stage_all(self, planned: list[Planned], loaded: threading.Event | None) -> list[tuple[Planned, StagedType]]:
        return [(p, self.prepare.stage(p, loaded)) for p in planned]

    def _load(self, ready: list[TypeLoad | None]) -> None:
        """Load a part's batches and settle each file as its batch (or half) ends."""
        loads = [self.loader.load(batch) for batch in ready if batch is not None]
        parallel = self.ctx.warehouse.max_parallel_loads
        with closing(load_all(loads, parallel)) as results:  # (closed at once if settling raises: a stop)
            for ended in results:  # the records of a batch, or of a half, whose load ended: settled at once
                for record in ended:
                    assert record.load is not None and record.data_type is not None
                    if record.load.outage and record.load.error:
                        self.prepare.down[record.data_type] = record.load.error
                self.settler.settle(ended)

    def _folder(self, part: Part) -> Path:
        return self.staging_dir / f"part-{part.number}"

    def _record(self, file: LandingFile, **seen: Any) -> Happened:
        """A file's record as the scan made it (`seen`: `Happened`'s fields)."""
        return Happened(file, self.service, dry_run=self.ctx.dry_run, **seen)
