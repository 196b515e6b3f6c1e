"""`ingestor status`: freshness, rows per day, backlog and rejections, read-only; and its HTML page."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from ingestor.catalog import Catalog, DataType
from ingestor.landing.local import LocalLanding
from ingestor.ops.status import Freshness, collect
from ingestor.testing import Declarations, Harness
from ingestor.warehouse.duckdb import DuckDBWarehouse

# Service `tick`: `beats` expected daily, `notes` with no expectation.
DAILY = Declarations(
    DataType(service="tick", name="beats", dataset="tick_{env}", table="beats", expected_every="daily"),
    DataType(service="tick", name="notes", dataset="tick_{env}", table="notes"),
)


@pytest.fixture
def tick(tmp_path) -> Harness:  # type: ignore[no-untyped-def]
    return Harness(tmp_path, DAILY)


def _status(h: Harness, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    run = h.cli("status", "--env", h.env, "--data-dir", str(h.root), "--json", *args)
    assert run.exit_code in (0, 1), run.output
    return run.exit_code, orjson.loads(run.stdout)


def _type(report: dict, name: str) -> dict:  # type: ignore[type-arg]
    return next(t for t in report["types"] if t["data_type"] == name)


def test_a_run_then_status_shows_every_type_and_its_freshness(tick: Harness) -> None:
    tick.land("tick/landing/2025_01_01_tick_beats.jsonl", [{"n": 1}, {"n": 2}, {"n": 3}])
    code, report = _status(tick)
    assert code == 1 and report["stale"] == ["tick.beats"]  # expected daily, never loaded
    assert not tick.database.exists()  # read-only: not even the DuckDB file is created
    assert tick.files("tick/landing") == ["tick/landing/2025_01_01_tick_beats.jsonl"]  # nothing moved
    beats = _type(report, "beats")
    assert beats["waiting"] == 1 and beats["oldest_waiting_at"] is not None and beats["freshness"] == "stale"

    assert tick.run("--service", "tick").exit_code == 0
    code, report = _status(tick, "--service", "tick")
    assert code == 0 and report["ok"] and report["stale"] == [] and report["rejected"] == 0
    beats, notes = _type(report, "beats"), _type(report, "notes")
    today = beats["last_loaded_at"][:10]  # the UTC day of the load (not of now: a test may span midnight)
    assert beats["freshness"] == "fresh" and beats["expected_every"] == "daily"
    assert beats["last_file"] == "tick/landing/2025_01_01_tick_beats.jsonl" and beats["rows_by_day"] == {today: 3}
    assert beats["waiting"] == 0 and beats["table"] == "tick_dev.beats"
    assert notes["freshness"] == "unknown" and notes["last_loaded_at"] is None
    assert [r["status"] for r in report["runs"]] == ["succeeded"]


def test_rejected_files_make_status_exit_1_until_cleared(tick: Harness) -> None:
    tick.land("tick/landing/2025_01_01_tick_beats.jsonl", [{"n": 1}])
    tick.land("tick/landing/2025_01_02_tick_notes.jsonl", "{oops\n")
    tick.land("tick/landing/readme.md", "hello")
    assert tick.run("--service", "tick").exit_code == 1
    code, report = _status(tick)
    assert code == 1 and report["stale"] == [] and report["rejected"] == 2
    assert _type(report, "notes")["rejected"] == 1 and _type(report, "(unmatched)")["rejected"] == 1
    text = tick.cli("status", "--env", "dev", "--data-dir", str(tick.root))
    assert text.exit_code == 1 and "tick.notes" in text.stdout and "2 rejected" in text.stdout
    for path in (tick.landing / "tick/rejected").iterdir():
        path.unlink()
    assert _status(tick)[0] == 0


def test_a_type_past_its_expectation_is_stale(tick: Harness) -> None:
    tick.land("tick/landing/2025_01_01_tick_beats.jsonl", [{"n": 1}])
    assert tick.run("--service", "tick").exit_code == 0
    catalog = Catalog(DAILY.data_types)
    landing = LocalLanding(tick.landing)
    warehouse = DuckDBWarehouse(tick.database, read_only=True)
    try:
        later = datetime.now(UTC) + timedelta(hours=35)
        assert collect(catalog, ["tick"], landing, warehouse, "dp_ops_dev", "dev", now=later).types[0].freshness == (
            Freshness.FRESH
        )
        much_later = datetime.now(UTC) + timedelta(hours=37)
        status = collect(catalog, ["tick"], landing, warehouse, "dp_ops_dev", "dev", days=7, now=much_later)
        assert status.stale == ["tick.beats"] and not status.ok
        loaded_at = status.types[0].last_loaded_at
        assert loaded_at is not None and status.types[0].rows_by_day == {loaded_at.date(): 1}
        one_day = collect(catalog, ["tick"], landing, warehouse, "dp_ops_dev", "dev", days=1, now=much_later)
        assert one_day.types[0].rows_by_day == {} and one_day.types[0].last_loaded_at is not None  # out of the window
    finally:
        warehouse.close()


@pytest.mark.parametrize(
    ("every", "hours"), [("hourly", 2), ("daily", 36), ("weekly", 192), ("36h", 36), ("2d", 48), ("90m", 1.5)]
)
def test_expectations(every: str, hours: float) -> None:
    from ingestor.catalog import expectation

    assert expectation(every) == timedelta(hours=hours)


@pytest.mark.parametrize("every", ["often", "0d", "3x", "1.5h", ""])
def test_bad_expectations_are_refused(every: str) -> None:
    with pytest.raises(ValueError, match="expected_every"):
        DataType(service="s", name="t", dataset="d", table="t", expected_every=every)


def test_html_page_is_self_contained_with_a_calendar(tick: Harness) -> None:
    tick.land("tick/landing/2025_01_01_tick_notes.jsonl", [{"n": 1}, {"n": 2}])
    assert tick.run("--service", "tick").exit_code == 0
    page = tick.root / "status.html"
    run = tick.cli("status", "--env", "dev", "--data-dir", str(tick.root), "--html", str(page), "--days", "14")
    assert run.exit_code == 1  # beats is stale
    html = page.read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html and "<link" not in html
    assert html.count('<rect x="') >= 14  # a cell per day (plus bars)
    (day,) = tick.query("SELECT CAST(recorded_at AS DATE) FROM dp_ops_dev._ingestor_history WHERE kind = 'file'")[0]
    assert f"{day.isoformat()}: 2 rows" in html  # the load day's cell tells its rows
    assert 'class="card stale"' in html and html.index("tick.beats") < html.index("tick.notes")  # stale first


def test_an_unwritable_html_path_exits_2(tick: Harness) -> None:
    run = tick.cli("status", "--env", "dev", "--data-dir", str(tick.root), "--html", str(tick.root / "no/dir/x.html"))
    assert run.exit_code == 2 and "cannot write" in run.stderr and "Traceback" not in run.output


def test_hidden_folders_and_what_is_not_a_file_are_not_counted(tick: Harness) -> None:
    tick.land("tick/landing/.incoming/2025_01_01_tick_beats.jsonl", [{"n": 1}])
    tick.land("tick/rejected/.old/2025_01_01_tick_notes.jsonl", [{"n": 1}])
    os.mkfifo(tick.landing / "tick/landing/2025_01_02_tick_beats.jsonl")
    _, report = _status(tick)
    assert _type(report, "beats")["waiting"] == 0 and report["rejected"] == 0
