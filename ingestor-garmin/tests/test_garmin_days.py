"""`ingestor status` names the days missing from a Garmin history: a night the watch did not sync."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ingestor.testing import Harness
from ingestor_garmin import plugin


def _sleep(night: date, load_fixture: Callable[[str], Any]) -> dict[str, Any]:
    """A night's sleep as the fetcher writes it: the API payload, its `date` and `data_type`."""
    payload = load_fixture("sleep_daily.json")
    payload["dailySleepDTO"]["calendarDate"] = night.isoformat()
    return {**payload, "date": night.isoformat(), "data_type": "sleep"}


def test_status_names_the_night_missing_from_a_sleep_history(
    tmp_path: Path, load_fixture: Callable[[str], Any]
) -> None:
    today = datetime.now(UTC).date()
    nights = [today - timedelta(days=6 - n) for n in range(1, 6)]  # days 1..5, day 5 yesterday
    hole = nights.pop(2)  # day 3: the watch did not sync
    h = Harness(tmp_path, plugin)
    for night in nights:
        h.land(f"garmin/landing/{night:%Y_%m_%d}_06_15_garmin_sleep.jsonl", [_sleep(night, load_fixture)])
    assert h.ingest("--service", "garmin").success
    where = ("--service", "garmin", "--env", h.env, "--data-dir", str(h.root))

    run = h.cli("status", *where, "--json")
    report = orjson.loads(run.stdout)
    assert report["missing_days"] == {"garmin.sleep": [hole.isoformat()]}  # the other daily types have no data yet
    sleep = next(t for t in report["types"] if t["data_type"] == "sleep")
    assert sleep["date_from"] == "column date" and sleep["missing_days"] == [hole.isoformat()]
    assert sleep["days_covered"] == {night.isoformat(): 1 for night in nights}

    text = h.cli("status", *where)
    row = next(line for line in text.stdout.splitlines() if "garmin.sleep" in line)
    rows, days, missing = [cell.strip() for cell in row.split("│")][5:8]
    assert (rows, days, missing) == ("4", "4", hole.isoformat())

    page = tmp_path / "status.html"
    assert h.cli("status", *where, "--html", str(page)).exit_code == run.exit_code
    html = page.read_text()
    assert f"<title>{hole.isoformat()}: 0 records, missing</title>" in html
    assert f"<title>{nights[0].isoformat()}: 1 records</title>" in html
    assert f"missing {hole.isoformat()}" in html and "4 days covered (column date)" in html
