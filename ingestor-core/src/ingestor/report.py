"""Human output: the run summary on stdout, a progress line on a terminal's stderr."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.table import Table

from ingestor.catalog import Catalog, DataType
from ingestor.result import FAILURES, FileOutcome, FileStatus, IngestResult, TableLoad

UNFOLDED = 10_000  # columns of a console that is not a terminal: wide enough that nothing folds


@contextmanager
def progress(show: bool) -> Iterator[Callable[[FileOutcome], None]]:
    """A callback counting files and rows, drawn live on stderr when `show`."""
    if not show:
        yield lambda outcome: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn

    counts = {"files": 0, "rows": 0, "problems": 0}
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=Console(stderr=True), transient=True
    ) as bar:
        task = bar.add_task("scanning landing…")

        def on_file(outcome: FileOutcome) -> None:
            counts["files"] += 1
            counts["rows"] += outcome.rows
            counts["problems"] += outcome.status in FAILURES
            bar.update(
                task,
                description=f"{counts['files']} files, {counts['rows']:,} rows, "
                f"{counts['problems']} rejected/failed — {outcome.path}",
            )

        yield on_file


def stdout_console() -> Console:
    """The console of results: no markup (object names and reasons are printed as they are) and,
    off a terminal (a pipe, a file, a CI log), lines at their natural width, not folded into 80 columns."""
    out = Console(highlight=False, markup=False)
    return out if out.is_terminal else Console(highlight=False, markup=False, width=UNFOLDED)


def print_result(result: IngestResult) -> None:
    """A table per data type, then the files that need attention, then totals."""
    out = stdout_console()
    title = f"run {result.run_id}{' (dry run)' if result.dry_run else ''}: {', '.join(result.services)} [{result.env}]"
    table = Table()
    for column in ("data type", "table", "files", "rows", "schema"):
        table.add_column(column, justify="right" if column in ("files", "rows") else "left", overflow="fold")
    for load in result.tables:
        table.add_row(f"{load.service}.{load.data_type}", load.table, str(load.files), f"{load.rows:,}", _schema(load))
    out.print(title)
    if result.tables:
        out.print(table)
    for outcome in result.files:
        if outcome.status in FAILURES or outcome.status is FileStatus.ALREADY_LOADED:
            out.print(f"{outcome.status.value}: {outcome.path} — {outcome.reason}")
    for load in result.tables:
        for note in load.notes:
            out.print(f"note {load.service}.{load.data_type}: {note}")
    if result.history_error:
        out.print(f"the run history could not be written: {result.history_error}")
    totals = result.totals
    summary = ", ".join(f"{totals[s.value]} {s.value}" for s in FileStatus if totals[s.value])
    out.print(
        f"{totals['files']} files ({summary or 'nothing to do'}), {totals['rows']:,} rows"
        f"{' planned' if result.dry_run else ' loaded'}; {'success' if result.success else 'FAILED'}"
    )


def _schema(load: TableLoad) -> str:
    """What happened to the table's schema, in a few words (the full list is in --json)."""
    if load.created:
        return f"new table, {len(load.columns_added)} columns"
    parts = [f"+{len(load.columns_added)} columns"] if load.columns_added else []
    parts += [f"{len(load.columns_widened)} widened"] if load.columns_widened else []
    return ", ".join(parts)


def print_types(catalog: Catalog, types: list[DataType], env: str) -> None:
    """Data types grouped by service, with their tables."""
    out = stdout_console()
    for service in catalog.services():
        group = [dt for dt in types if dt.service == service]
        if not group:
            continue
        table = Table(title=f"{service} ({len(group)} data types)", title_justify="left")
        table.add_column("data type")
        table.add_column("table")
        table.add_column("key")
        for dt in group:
            table.add_row(dt.name, f"{dt.dataset_for(env)}.{dt.table_for(env)}", ", ".join(dt.primary_key))
        out.print(table)


def print_plugins(rows: list[dict[str, Any]]) -> None:
    """Installed plugins as a table."""
    table = Table()
    for column in ("distribution", "version", "hooks", "services", "data types"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["distribution"],
            row["version"],
            ", ".join(row["hooks"]),
            ", ".join(row["services"]),
            str(row["data_types"]),
        )
    stdout_console().print(table)
