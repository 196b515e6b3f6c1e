"""`ingestor rebuild`: a service's tables built again from its archive, each replaced in one atomic step.

The archive is the only complete copy of a user's history. For each data type, under the service's lease (no run
loads meanwhile), the rebuild:

1. lists `{service}/archive/` (`ingestor.rebuild.archive`) and plans the type's files against its ledger entries and the
   live table's rows per source file (`ingestor.rebuild.plan`): which loaded file each is, in what order, what is
   carried over, what was never recorded;
2. stages every archived file with the installed plugin's current declaration, normalizer and schema policy, the
   very steps of a run (`staging.stage_all`, `SchemaBuilder`), each file's rows keeping the `_dp_inserted_at` of
   their first load. The schema is built from the data alone, unless live rows are carried over or the warehouse
   changes tables in place (`Rebuilds.keeps_columns`: BigQuery): then it starts from the live table's (their
   values need its columns), and only grows;
3. replaces the table and its ledger entries in one atomic step (`Rebuilds.rebuild`), keeping the old table as
   `{table}__before_rebuild_{YYYYMMDD_HHMMSS}` (`INGESTOR_REBUILD_BACKUP=0`: not kept), and refreshes the views.

With `--dry-run`, steps 1 and 2 run (every file is read) and nothing is written. A file the plugin now rejects is
not rebuilt: its rows, if any, are carried over, and the result lists it. A file that cannot be read for the
environment's sake (a full disk), or a warehouse error, leaves the type as it was."""

from __future__ import annotations

import copy
import itertools
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import cast

from ingestor.catalog import DataType
from ingestor.rebuild.archive import Archived, read_archive
from ingestor.rebuild.plan import FilePlan, TypePlan, plan_rebuild
from ingestor.rebuild.result import RebuildResult, TypeRebuild
from ingestor.run import faults, lease
from ingestor.run.context import RunContext
from ingestor.run.ledger import LedgerEntry
from ingestor.run.staging_folder import staging_folder
from ingestor.run.tables import LiveSchemas
from ingestor.run.views import refresh_views
from ingestor.schema import Kind, SchemaBuilder, Struct, inserted_at, reconcile
from ingestor.staging import stage_all
from ingestor.staging.batch import Batch
from ingestor.staging.row_path import Staged, StageTask
from ingestor.staging.staged import StagedFile
from ingestor.warehouse import LoadError
from ingestor.warehouse.dialect import storable
from ingestor.warehouse.rebuild import RebuildRequest, Rebuilds

log = logging.getLogger("ingestor.rebuild")
BACKUP_SUFFIX = "__before_rebuild_{:%Y%m%d_%H%M%S}"


def rebuild(context: RunContext, service: str) -> RebuildResult:
    """Rebuild the tables of `service` (of `context.data_types`, when given) from its archive."""
    result = RebuildResult(service=service, **context.header())
    settings = context.settings
    with lease.held(
        context.landing,
        [service],
        run_id=context.run_id,
        task_index=0,
        task_count=1,
        settings=settings.lease,
        dry_run=context.dry_run,
        without_landing=True,  # archive/ is read, whether landing/ exists or not
    ):
        archive = read_archive(service, context.landing, context.catalog, context.data_types)
        result.skipped = dict(archive.skipped)
        types = [dt for dt in context.catalog.types(service) if not context.data_types or dt.name in context.data_types]
        with staging_folder() as staging:
            for dt in types:
                folder = staging / dt.name
                folder.mkdir()
                done = TypeRebuilder(context, dt, folder).run(archive.by_type.get(dt.name, []))
                if done is not None:
                    result.types.append(done)
        if result.types and not context.dry_run:
            schemas = LiveSchemas(context.warehouse)
            refresh_views(service, context.env, context.views, context.warehouse, schemas, [])
    result.finished_at = datetime.now(UTC)
    return result


class TypeRebuilder:
    """One data type's rebuild: plan, stage, replace (see the module)."""

    def __init__(self, context: RunContext, dt: DataType, staging: Path) -> None:
        self.ctx = context
        self.dt = dt
        self.dataset, self.table = dt.dataset_for(context.env), dt.table_for(context.env)
        self.warehouse = cast(Rebuilds, context.warehouse)
        self.live_exists = False
        self.paths: Iterator[Path] = (staging / f"{n:07d}.jsonl" for n in itertools.count(1))

    def run(self, archived: list[Archived]) -> TypeRebuild | None:
        """The type rebuilt (or planned); None when it has neither a table nor an archived file."""
        dt, ctx = self.dt, self.ctx
        summary = TypeRebuild(data_type=dt.name, table=f"{self.dataset}.{self.table}", files_in_archive=len(archived))
        try:
            live = ctx.warehouse.table_schema(self.dataset, self.table)
            self.live_exists = live is not None
            if live is None and not archived:
                return None
            ledger = self.warehouse.ledger_entries(self.dataset, dt.service, dt.name)
            counts = self.warehouse.source_counts(self.dataset, self.table, dt.source_file_column)
        except LoadError as error:
            summary.error = str(error)
            return summary
        plan = plan_rebuild(dt, ctx.landing, archived, ledger, counts, lambda item: ctx.landing.checksum(item.file))
        summary.rows_before = summary.rows_after = summary.rows_carried_over = plan.rows_before
        summary.files_unrecorded = sum(f.loaded_at is None for f in plan.files)
        if plan.conflict is not None or not archived:
            summary.error = plan.conflict
            summary.notes = [] if archived else ["no archived file: the table is left as it is"]
            return summary
        keep = plan.carried(dt) or self.warehouse.keeps_columns
        builder, staged = self._stage(plan, live if keep else None)
        rejected = {name: s.reason for name, s in staged.items() if s.reason and not s.failed}
        if rejected and live is not None and not keep and plan.carried(dt, rejected):
            builder, staged = self._stage(plan, live)  # their rows are carried over: so are the live columns
            rejected = {name: s.reason for name, s in staged.items() if s.reason and not s.failed}
        failed = next(((name, s.reason) for name, s in staged.items() if s.failed), None)
        if failed is not None:
            summary.error = f"{failed[0]} could not be read: {failed[1]}; the table was not rebuilt"
            return summary
        summary.files_not_rebuilt = {name: str(reason) for name, reason in rejected.items()}
        kept = [f for f in plan.files if f.archived.file.name not in rejected]
        schema = reconcile(builder.root, None)
        self._describe(summary, plan, kept, staged, live, schema, set(rejected))
        summary.notes = list(builder.notes)
        if ctx.dry_run:
            return summary
        return self._replace(summary, plan, kept, staged, schema, set(rejected))

    def _describe(
        self,
        summary: TypeRebuild,
        plan: TypePlan,
        kept: list[FilePlan],
        staged: dict[str, Staged],
        live: Struct | None,
        schema: Struct,
        rejected: set[str],
    ) -> None:
        """The plan's figures and the columns' changes, in `summary`."""
        rows = {f.archived.file.name: staged[f.archived.file.name].rows for f in kept}
        summary.rows_rebuilt = sum(rows.values())
        summary.rows_carried_over = plan.carried(self.dt, rejected)
        summary.rows_after = summary.rows_rebuilt + summary.rows_carried_over
        recovered = [rows[f.archived.file.name] for f in kept if f.recovered and rows[f.archived.file.name]]
        summary.files_recovered, summary.rows_recovered = len(recovered), sum(recovered)
        new = storable(schema)
        old = {c.name.lower(): c for c in (live.columns.values() if live is not None else [])}
        summary.columns_added = [f"{c.name} {c.type_name()}" for c in new if c.name.lower() not in old]
        summary.columns_removed = [c.name for c in old.values() if schema.get(c.name) is None]
        summary.columns_retyped = [
            f"{c.name} {old[c.name.lower()].type_name()} -> {c.type_name()}"
            for c in new
            if c.name.lower() in old and old[c.name.lower()].type_name() != c.type_name()
        ]

    def _replace(
        self,
        summary: TypeRebuild,
        plan: TypePlan,
        kept: list[FilePlan],
        staged: dict[str, Staged],
        schema: Struct,
        rejected: set[str],
    ) -> TypeRebuild:
        """Replace the table and its ledger entries (see `Rebuilds.rebuild`)."""
        dt, ctx = self.dt, self.ctx
        files = [self._staged_file(f, staged[f.archived.file.name]) for f in kept if staged[f.archived.file.name].rows]
        backup = self._backup_name() if ctx.settings.rebuild_backup and self.live_exists else None
        request = RebuildRequest(
            data_type=dt,
            dataset=self.dataset,
            table=self.table,
            schema=schema,
            files=files,
            rebuilt=plan.rebuilt(dt, rejected),
            replaced={f.landed for f in kept},
            backup=backup,
            run_id=ctx.run_id,
        )
        try:
            summary.rows_after = self.warehouse.rebuild(request)
        except LoadError as error:
            summary.error = f"{error}; the table was not rebuilt"
            return summary
        faults.checkpoint("rebuild_after_commit")  # test-only: this type replaced, the next not begun
        summary.backup = f"{self.dataset}.{backup}" if backup else None
        log.info("%s: rebuilt %s: %d rows (%d before)", dt.key, summary.table, summary.rows_after, summary.rows_before)
        return summary

    def _backup_name(self) -> str:
        """`{table}__before_rebuild_{YYYYMMDD_HHMMSS}` (the rebuild's start), numbered `_2`, `_3`... when a
        rebuild begun in the same second kept one already (a rerun right after a killed rebuild)."""
        name = self.table + BACKUP_SUFFIX.format(self.ctx.started_at)
        n, free = 1, name
        while self.ctx.warehouse.table_schema(self.dataset, free) is not None:
            n += 1
            free = f"{name}_{n}"
        return free

    def _stage(self, plan: TypePlan, stored: Struct | None) -> tuple[SchemaBuilder, dict[str, Staged]]:
        """Stage the plan's files against `stored` (None: from nothing), each group of files first loaded at one
        time with that time as its `_dp_inserted_at`, one schema growing across them; a file staged before a column
        became JSON is staged again (as `staging.stage_all` does within one batch)."""
        dt, ctx = self.dt, self.ctx
        hints = {**dict.fromkeys(dt.column_defaults, Kind.STRING), **dt.schema_hints}
        hints |= {dt.inserted_at_column: Kind.TIMESTAMP, dt.source_file_column: Kind.STRING}
        probe = partial(LiveSchemas(ctx.warehouse).large_ints, self.dataset, self.table) if stored else None
        builder = SchemaBuilder(copy.deepcopy(stored), hints, dt.columns, probe)  # (grown in place)
        batches: list[tuple[Batch, list[StageTask], int]] = []
        for at, group in itertools.groupby(plan.files, key=lambda f: f.loaded_at or ctx.started_at):
            metadata = {dt.inserted_at_column: inserted_at(at, builder.root.get(dt.inserted_at_column))}
            batch = Batch(ctx.landing, dt, builder, metadata, ctx.settings)
            tasks = [
                StageTask(f.archived.file, f.archived.match.attributes, next(self.paths), f.skip, landed_as=f.landed)
                for f in group
            ]
            stage_all(batch, tasks, ctx.warehouse.loads_arrow)
            batches.append((batch, tasks, builder.json_turns))
        results: dict[str, Staged] = {}
        for batch, tasks, turns in batches:
            for task in tasks:
                if (
                    batch.turns.get(task.file.name, turns) < builder.json_turns
                    and not batch.results[task.file.name].reason
                ):
                    batch.restage(task, "a column became JSON")
            results.update(batch.results)
        faults.checkpoint("rebuild_after_stage")  # test-only: a type's files staged, nothing written
        return builder, results

    def _staged_file(self, plan: FilePlan, staged: Staged) -> StagedFile:
        """A staged archived file with its new ledger entry (its first load's time, or the rebuild's)."""
        assert staged.path is not None
        entry = LedgerEntry(
            source_name=plan.landed,
            checksum=plan.checksum,
            size=plan.archived.file.size,
            service=self.dt.service,
            data_type=self.dt.name,
            table_name=f"{self.dataset}.{self.table}",
            rows=staged.rows,
            run_id=self.ctx.run_id,
            loaded_at=plan.loaded_at or self.ctx.started_at,
        )
        return StagedFile(entry=entry, path=staged.path, source=plan.archived.file, widest=staged.widest)
