"""The date a record is about: the days a data type covers and the days missing, as `ingestor status` reports them,
from a date column (TIMESTAMP, DATE or STRING) or a file-name group, on DuckDB."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingestor.catalog import Catalog, DataType
from ingestor.days import date_source, day_of
from ingestor.landing.local import LocalLanding
from ingestor.ops.status import Status, collect
from ingestor.schema import Kind
from ingestor.testing import Declarations, Harness
from ingestor.warehouse.duckdb import DuckDBWarehouse

NOW = datetime(2025, 1, 7, 12, 0, tzinfo=UTC)  # today 2025-01-07, yesterday the 6th


def _tick(name: str, every: str | None = "daily", **declared: Any) -> DataType:
    return DataType(service="tick", name=name, dataset="tick_{env}", table=name, expected_every=every, **declared)


PULSES = _tick("pulses", date_column="at", schema_hints={"at": Kind.TIMESTAMP})
ENTRIES = _tick("entries", date_column="day")  # a STRING column, as Garmin's dates
SNAPS = _tick("snaps", date_group="day", file_patterns=(r"(?P<day>\d{4}_\d{2}_\d{2})_tick_snaps",))


def _status(h: Harness, days: int = 30) -> Status:
    warehouse = DuckDBWarehouse(h.database, read_only=True)
    try:
        catalog = Catalog(h.plugins.catalog.types())
        return collect(catalog, ["tick"], LocalLanding(h.landing), warehouse, "dp_ops_dev", "dev", days, NOW)
    finally:
        warehouse.close()


def _loaded(tmp_path: Path, data_type: DataType, files: dict[str, list[dict[str, Any]]]) -> Harness:
    h = Harness(tmp_path, Declarations(data_type))
    for name, records in files.items():
        h.land(f"tick/landing/{name}.jsonl", records)
    assert h.ingest("--service", "tick").success
    return h


def test_a_timestamp_column_counts_its_utc_days_and_the_missing_ones_up_to_yesterday(tmp_path: Path) -> None:
    at = ["2025-01-01T10:00:00Z", "2025-01-02T23:30:00-05:00", "2025-01-03T01:00:00Z", "2025-01-05T08:00:00+01:00"]
    h = _loaded(tmp_path, PULSES, {"2025_01_06_tick_pulses": [{"at": value} for value in at]})
    (pulses,) = _status(h).types
    assert pulses.date_from == "column at"
    assert pulses.days_covered == {date(2025, 1, 1): 1, date(2025, 1, 3): 2, date(2025, 1, 5): 1}  # UTC days
    assert pulses.missing_days == [date(2025, 1, 2), date(2025, 1, 4), date(2025, 1, 6)]  # not before the 1st


def test_data_from_before_the_window_makes_each_day_of_it_count(tmp_path: Path) -> None:
    at = ["2024-11-20T10:00:00Z", "2025-01-05T10:00:00Z", "2025-03-01T10:00:00Z"]  # before, in, after the window
    h = _loaded(tmp_path, PULSES, {"2025_01_06_tick_pulses": [{"at": value} for value in at]})
    status = _status(h, days=3)  # the 5th to the 7th
    assert status.types[0].days_covered == {date(2025, 1, 5): 1}
    assert status.missing_days == {"tick.pulses": [date(2025, 1, 6)]}  # today (the 7th) may not be fetched yet
    assert _status(h, days=4).missing_days == {"tick.pulses": [date(2025, 1, 4), date(2025, 1, 6)]}


def test_a_string_column_counts_the_values_that_start_with_a_date(tmp_path: Path) -> None:
    days = ["2025-01-04", "2025-01-06T05:00:00.0", "n/a", "", "2025-13-01", None]
    h = _loaded(tmp_path, ENTRIES, {"2025_01_06_tick_entries": [{"day": day, "n": 1} for day in days]})
    (entries,) = _status(h).types
    assert entries.days_covered == {date(2025, 1, 4): 1, date(2025, 1, 6): 1}
    assert entries.missing_days == [date(2025, 1, 5)]


def test_a_date_column_counts_its_days(tmp_path: Path) -> None:
    dated = ENTRIES.model_copy(update={"schema_hints": {"day": Kind.DATE}})
    h = _loaded(tmp_path, dated, {"2025_01_06_tick_entries": [{"day": "2025-01-05"}, {"day": "2025-01-06"}]})
    assert h.columns("tick_dev", "entries")["day"] == "DATE"
    assert _status(h).types[0].days_covered == {date(2025, 1, 5): 1, date(2025, 1, 6): 1}
    assert _status(h).missing_days == {}


def test_a_file_name_group_counts_the_days_of_the_loaded_files(tmp_path: Path) -> None:
    files = {
        "2025_01_03_tick_snaps": [{"n": 1}, {"n": 2}],
        "2025_01_04_tick_snaps": [],  # empty: no record about the 4th
        "2025_01_06_tick_snaps": [{"n": 3}],
    }
    h = _loaded(tmp_path, SNAPS, files)
    (snaps,) = _status(h).types
    assert snaps.date_from == "file name group day"
    assert snaps.days_covered == {date(2025, 1, 3): 2, date(2025, 1, 6): 1}
    assert snaps.missing_days == [date(2025, 1, 4), date(2025, 1, 5)]


def test_a_missing_table_or_column_has_no_days_and_status_stays_read_only(tmp_path: Path) -> None:
    h = Harness(tmp_path, Declarations(PULSES, SNAPS, ENTRIES.model_copy(update={"date_column": "nowhere"})))
    run = h.cli("status", "--env", "dev", "--data-dir", str(h.root), "--json")
    assert run.exit_code == 1 and not h.database.exists()  # stale, never loaded; no DuckDB file created
    report = orjson.loads(run.stdout)
    assert report["missing_days"] == {} and all(t["days_covered"] == {} for t in report["types"])
    h.land("tick/landing/2025_01_06_tick_entries.jsonl", [{"day": "2025-01-06"}])
    assert h.ingest("--service", "tick").success
    assert all(not t.days_covered and not t.missing_days for t in _status(h).types)


@pytest.mark.parametrize(("every", "checked"), [("hourly", True), ("36h", True), ("2d", False), ("weekly", False)])
def test_only_types_expected_at_least_daily_are_checked(every: str, checked: bool) -> None:
    assert (date_source(_tick("t", every, date_column="at")) == "column at") is checked
    assert date_source(_tick("t", None, date_column="at")) is None and date_source(_tick("t", every)) is None


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ({"date_column": "at", "date_group": "day"}, "not both"),
        ({"date_group": "day"}, "date_group 'day' is not a named group of the file patterns"),
        ({"date_column": "played at"}, "invalid date column 'played at'"),
    ],
)
def test_a_wrong_date_declaration_is_refused(declared: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DataType(service="s", name="t", dataset="d", table="t", **declared)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2025-01-06", date(2025, 1, 6)),
        ("2025_01_06_06_15", date(2025, 1, 6)),
        ("20250106", date(2025, 1, 6)),
        ("2025-01-06T23:00:00.0", date(2025, 1, 6)),
        ("2025_02_30", None),
        ("bob", None),
        ("", None),
        (None, None),
    ],
)
def test_day_of(text: str | None, day: date | None) -> None:
    assert day_of(text) == day
