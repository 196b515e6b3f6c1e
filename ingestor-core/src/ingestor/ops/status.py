"""`ingestor status`: per data type, what was loaded and when, what waits in landing, what was rejected,
whether it is fresh, and for a type that declares the date of its records, the days covered and missing. It only
reads: the run history (see ingestor.ops.history), the landing zone's listing, and the days (see ingestor.days)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, computed_field

from ingestor.catalog import AmbiguousFile, Catalog, expectation
from ingestor.days import date_source, days_of
from ingestor.landing import Landing, LandingFile, hidden
from ingestor.warehouse import Warehouse

UNMATCHED = "(unmatched)"  # files of a service that no data type matches
REASON_SUFFIX = ".reason.json"

# Queries of the history, in SQL both warehouses accept ({rows}: the quoted column, a reserved word in BigQuery).
_LATEST = (
    "SELECT h.service, h.data_type, h.object_name, h.recorded_at FROM {history} AS h JOIN ("
    "SELECT service, data_type, MAX(recorded_at) AS newest FROM {history} WHERE kind = 'file' AND status = 'loaded' "
    "GROUP BY service, data_type) AS m ON h.service = m.service AND h.data_type = m.data_type "
    "AND h.recorded_at = m.newest WHERE h.kind = 'file' AND h.status = 'loaded' AND h.recorded_at >= {since}"
)
_DAILY = (
    "SELECT service, data_type, CAST(recorded_at AS DATE) AS day, SUM({rows}) AS {rows}, COUNT(*) AS files "
    "FROM {history} WHERE kind = 'file' AND status = 'loaded' AND recorded_at >= {since} "
    "GROUP BY service, data_type, CAST(recorded_at AS DATE)"
)
_RUNS = (
    "SELECT run_id, status, service, files, {rows}, reason, recorded_at, seconds FROM {history} "
    "WHERE kind = 'run' AND recorded_at >= {since} ORDER BY recorded_at DESC LIMIT 10"
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Freshness(StrEnum):
    """Whether a data type's newest file is recent enough."""

    FRESH = "fresh"  # a file loaded within its expectation
    STALE = "stale"  # nothing loaded within its expectation (or ever)
    UNKNOWN = "unknown"  # the data type declares no expectation


class TypeStatus(BaseModel):
    """One data type's state (data_type UNMATCHED gathers a service's files no type matches)."""

    service: str
    data_type: str
    table: str | None = None
    expected_every: str | None = None
    freshness: Freshness = Freshness.UNKNOWN
    last_loaded_at: datetime | None = None
    last_file: str | None = None
    rows_by_day: dict[date, int] = Field(default_factory=dict)  # rows loaded per UTC day, last `days` days
    waiting: int = 0  # files in landing
    oldest_waiting_at: datetime | None = None
    rejected: int = 0  # files in rejected/
    # For a type expected at least daily that declares the date of its records (see ingestor.days): where it comes
    # from, the records per day they are about (last `days` days), and the days without one.
    date_from: str | None = None
    days_covered: dict[date, int] = Field(default_factory=dict)
    missing_days: list[date] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rows_recent(self) -> int:
        """Rows loaded over the days shown."""
        return sum(self.rows_by_day.values())


class RunRow(BaseModel):
    """One recent run, from the history."""

    run_id: str
    status: str
    service: str
    files: int | None = None
    rows: int | None = None
    reason: str | None = None
    recorded_at: datetime
    seconds: float | None = None


class Status(BaseModel):
    """Everything `ingestor status` reports."""

    env: str
    services: list[str]
    generated_at: datetime
    days: int
    history: str  # the history table read
    types: list[TypeStatus] = Field(default_factory=list)
    runs: list[RunRow] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stale(self) -> list[str]:
        """`service.type` of each stale data type."""
        return [f"{t.service}.{t.data_type}" for t in self.types if t.freshness is Freshness.STALE]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def missing_days(self) -> dict[str, list[date]]:
        """`service.type` -> its missing days, for each data type missing some (reported, not an alarm)."""
        return {f"{t.service}.{t.data_type}": t.missing_days for t in self.types if t.missing_days}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rejected(self) -> int:
        """Files in rejected/, all services."""
        return sum(t.rejected for t in self.types)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when nothing is stale and nothing sits in rejected/."""
        return not self.stale and not self.rejected


def collect(
    catalog: Catalog,
    services: list[str],
    landing: Landing,
    warehouse: Warehouse,
    history_dataset: str,
    env: str,
    days: int = 30,
    now: datetime | None = None,
) -> Status:
    """Read the history and list each service's landing/ and rejected/ folders."""
    now = now or datetime.now(UTC)
    since = datetime.combine(now.date() - timedelta(days=days - 1), datetime.min.time(), UTC)
    status = Status(env=env, services=services, generated_at=now, days=days, history=history_dataset)
    by_key: dict[tuple[str, str], TypeStatus] = {}
    for service in services:
        for dt in catalog.types(service):
            entry = by_key[(service, dt.name)] = TypeStatus(
                service=service,
                data_type=dt.name,
                table=f"{dt.dataset_for(env)}.{dt.table_for(env)}",
                expected_every=dt.expected_every,
                date_from=date_source(dt),
            )
            if entry.date_from:
                covered = days_of(dt, env, warehouse, since.date(), now.date())
                entry.days_covered, entry.missing_days = covered.covered, covered.missing
    for row in warehouse.read_history(history_dataset, _LATEST, EPOCH):
        found = by_key.get((row["service"], row["data_type"]))
        if found is not None and (found.last_file is None or row["object_name"] > found.last_file):
            found.last_loaded_at, found.last_file = _utc(row["recorded_at"]), row["object_name"]
    for row in warehouse.read_history(history_dataset, _DAILY, since):
        found = by_key.get((row["service"], row["data_type"]))
        if found is not None:
            found.rows_by_day[_day(row["day"])] = int(row["rows"] or 0)
    wanted = set(services)
    for row in warehouse.read_history(history_dataset, _RUNS, since):
        if wanted & set((row["service"] or "").split(",")):
            status.runs.append(RunRow(**row))
    for service in services:
        for file, folder in _listed(landing, service):
            name = _data_type(catalog, service, file.name.rsplit("/", 1)[-1])
            found = by_key.setdefault((service, name), TypeStatus(service=service, data_type=name))
            if folder == "landing":
                found.waiting += 1
                if file.updated and (found.oldest_waiting_at is None or file.updated < found.oldest_waiting_at):
                    found.oldest_waiting_at = file.updated
            else:
                found.rejected += 1
    for found in by_key.values():
        found.rows_by_day = dict(sorted(found.rows_by_day.items()))
        if found.expected_every:
            late = found.last_loaded_at is None or now - found.last_loaded_at > expectation(found.expected_every)
            found.freshness = Freshness.STALE if late else Freshness.FRESH
    status.types = list(by_key.values())
    return status


def _listed(landing: Landing, service: str) -> list[tuple[LandingFile, str]]:
    """The files of a service's landing/ and rejected/ (reasons aside) folders: hidden ones and what is no
    file a run reads (`LandingFile.fault`) aside."""
    found = []
    for folder in ("landing", "rejected"):
        prefix = f"{service}/{folder}/"
        for file in landing.list(prefix):
            relative = file.name[len(prefix) :]
            if hidden(relative) or file.fault or (folder == "rejected" and relative.endswith(REASON_SUFFIX)):
                continue
            found.append((file, folder))
    return found


def _data_type(catalog: Catalog, service: str, filename: str) -> str:
    try:
        match = catalog.match(service, filename)
    except AmbiguousFile:
        match = None
    return match.data_type.name if match else UNMATCHED


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _day(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value))


def ago(moment: datetime | None, now: datetime) -> str:
    """`3h ago`, `2d ago`, or `never`."""
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def _missing(days: list[date]) -> str:
    """`0`, the days themselves when there are one or two, else how many and the latest."""
    if len(days) > 2:
        return f"[yellow]{len(days)}, last {days[-1].isoformat()}[/]"
    return f"[yellow]{', '.join(day.isoformat() for day in days)}[/]" if days else "0"


def print_status(status: Status) -> None:
    """A table per data type on stdout, then the recent runs."""
    import sys

    from rich.console import Console
    from rich.table import Table

    now = status.generated_at
    out = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
    table = Table(title=f"status [{status.env}] {status.generated_at:%Y-%m-%d %H:%M} UTC", title_justify="left")
    columns = ("data type", "freshness", "expected", "last loaded", f"rows {status.days}d", "days", "missing days")
    for column in (*columns, "landing", "rejected"):
        right = column.startswith(("rows", "days", "landing", "rejected"))
        table.add_column(column, justify="right" if right else "left", no_wrap=column == "data type")
    style = {Freshness.STALE: "bold red", Freshness.FRESH: "green", Freshness.UNKNOWN: "dim"}
    for t in status.types:
        waiting = f"{t.waiting} (oldest {ago(t.oldest_waiting_at, now)})" if t.waiting else "0"
        table.add_row(
            f"{t.service}.{t.data_type}",
            f"[{style[t.freshness]}]{t.freshness.value}[/]",
            t.expected_every or "-",
            ago(t.last_loaded_at, now),
            f"{t.rows_recent:,}",
            f"{len(t.days_covered)}" if t.date_from else "-",
            _missing(t.missing_days) if t.date_from else "-",
            waiting,
            f"[bold red]{t.rejected}[/]" if t.rejected else "0",
        )
    out.print(table)
    for run in status.runs[:3]:
        out.print(f"run {run.run_id} {run.status} {ago(run.recorded_at, now)}: {run.reason or 'nothing to do'}")
    verdict = "ok" if status.ok else f"{len(status.stale)} stale, {status.rejected} rejected"
    out.print(f"{verdict} (history: {status.history}._ingestor_history)")
