"""Human output: the run summary on stdout, a progress line on a terminal's stderr."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (imported where a run's result is printed: `list-types` and `plugins` need neither)
    from rich.console import Console
    from rich.table import Table

    from ingestor.catalog import Catalog, DataType
    from ingestor.result import FileOutcome, IngestResult, TableLoad

UNFOLDED = 10_000  # columns of a console that is not a terminal: wide enough that nothing folds


@contextmanager
def progress(show: bool) -> Iterator[Callable[[FileOutcome], None]]:
    """A callback counting files and rows, drawn live on stderr when `show`."""
    if not show:
        yield lambda outcome: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from ingestor.result import FAILURES

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
    from rich.console import Console

    out = Console(highlight=False, markup=False)
    return out if out.is_terminal else Console(highlight=False, markup=False, width=UNFOLDED)


def print_result(result: IngestResult, catalog: Catalog) -> None:
    """A table per data type (files, by status unless all loaded, as the footer counts them; rows; null lines
    and dropped records where there are any; schema changes), then the files that need attention and the
    patterns tried on the names no data type matches, then totals."""
    from ingestor.errors import ReasonCode
    from ingestor.result import FAILURES, FileStatus

    out = stdout_console()
    mode = " (dry run)" if result.dry_run else ""
    out.print(f"run {result.run_id}{mode}: {', '.join(result.services)} [{result.env}]")
    groups = _by_type(result)
    if groups:
        out.print(_table(groups, {(load.service, load.data_type): load for load in result.tables}))
    for outcome in result.files:
        if outcome.status in FAILURES or outcome.status is FileStatus.ALREADY_LOADED:
            out.print(f"{outcome.status.value}: {outcome.path} — {outcome.reason}")
    for service in dict.fromkeys(o.service for o in result.files if o.reason_code is ReasonCode.NO_DATA_TYPE):
        out.print(f"the patterns tried on the names of {service} (without .jsonl/.jsonl.gz):")
        for dt in catalog.types(service):
            out.print(f"  {dt.name}: {' or '.join(dt.file_patterns)}")
    for load in result.tables:
        for note in load.notes:
            out.print(f"note {load.service}.{load.data_type}: {note}")
    if result.history_error:
        out.print(f"the run history could not be written: {result.history_error}")
    totals = result.totals
    counts = {said: _total(result.files, what) for what, said in SKIPPED.items()}
    skipped = "".join(f", {n:,} {said}" for said, n in counts.items() if n)
    out.print(
        f"{totals['files']} files ({_statuses(result.files) or 'nothing to do'}), {totals['rows']:,} rows"
        f"{' planned' if result.dry_run else ' loaded'}{skipped}; {'success' if result.success else 'FAILED'}"
    )


Group = tuple[str, str | None]  # (service, data type); None: the service's files of no data type
# What was read but gave no row, per file: the table's column, and how the footer says it.
SKIPPED = {"null_lines": "null lines skipped", "dropped": "records dropped by the normalizer"}


def _by_type(result: IngestResult) -> dict[Group, list[FileOutcome]]:
    """The run's outcomes by data type: the types the run took up, in order, then the files of no data type."""
    groups: dict[Group, list[FileOutcome]] = {(load.service, load.data_type): [] for load in result.tables}
    for outcome in result.files:
        groups.setdefault((outcome.service, outcome.data_type), []).append(outcome)
    return groups


def _table(groups: dict[Group, list[FileOutcome]], loads: dict[Group, TableLoad]) -> Table:
    from rich.table import Table

    from ingestor.result import ROWS_COUNTED

    everything = [o for outcomes in groups.values() for o in outcomes]
    skips = [what for what in SKIPPED if _total(everything, what)]
    table = Table()
    for column in ("data type", "table", "files", "rows", *(s.replace("_", " ") for s in skips), "schema"):
        table.add_column(column, justify="left" if column in ("data type", "table", "schema") else "right")
    for (service, name), outcomes in groups.items():
        load = loads.get((service, name))
        all_counted = {o.status for o in outcomes} <= ROWS_COUNTED
        table.add_row(
            f"{service}.{name}" if name else f"{service} (no data type)",
            load.table if load else "",
            str(len(outcomes)) if all_counted else f"{len(outcomes)} ({_statuses(outcomes)})",
            f"{sum(o.rows for o in outcomes if o.status in ROWS_COUNTED):,}",
            *(f"{_total(outcomes, what):,}" for what in skips),
            _schema(load) if load else "",
        )
    return table


def _statuses(outcomes: list[FileOutcome]) -> str:
    """`2 loaded, 1 already_loaded`: files per status, in the statuses' order."""
    from ingestor.result import FileStatus

    counts = Counter(o.status for o in outcomes)
    return ", ".join(f"{counts[status]} {status.value}" for status in FileStatus if counts[status])


def _total(outcomes: list[FileOutcome], what: str) -> int:
    """The sum of a count of the outcomes (`null_lines`, `dropped`)."""
    return sum(getattr(o, what) for o in outcomes)


def _schema(load: TableLoad) -> str:
    """What happened to the table's schema, in a few words (the full list is in --json)."""
    if load.created:
        return f"new table, {len(load.columns_added)} columns"
    parts = [f"+{len(load.columns_added)} columns"] if load.columns_added else []
    parts += [f"{len(load.columns_widened)} widened"] if load.columns_widened else []
    return ", ".join(parts)


def print_types(catalog: Catalog, types: list[DataType], env: str) -> None:
    """Data types grouped by service, with their tables."""
    from rich.table import Table

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
    from rich.table import Table

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
