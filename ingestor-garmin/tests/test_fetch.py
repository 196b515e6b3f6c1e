"""`ingestor fetch --service garmin`: the garminconnect library, pointed at a local server serving real payloads.

Endpoints without a real recording answer 204 (no data), as Garmin does for days without data.
"""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import ingestor_garmin.endpoints
import ingestor_garmin.plugin
from ingestor.conformance import FetcherConformance
from ingestor.testing import Harness

FETCH_FIXTURES = Path(__file__).parent / "fixtures" / "fetch"
DISPLAY_NAME = "mtamizi"
DAILY_SAMPLES = {
    r"/wellness-service/wellness/dailySleepData/mtamizi": "sleep_daily.json",
    r"/wellness-service/wellness/dailyHeartRate/mtamizi": "heart_rate_daily.json",
    r"/wellness-service/wellness/dailyStress/[\d-]+": "stress_daily.json",
    r"/usersummary-service/usersummary/daily/mtamizi": "user_summary_daily.json",
    r"/hrv-service/hrv/[\d-]+": "hrv_daily.json",
    r"/metrics-service/metrics/trainingreadiness/[\d-]+": "training_readiness.json",
    r"/userstats-service/wellness/daily/mtamizi": "rhr_daily.json",
    r"/weight-service/weight/dayview/[\d-]+": "weight_dayview.json",
    r"/activity-service/activity/\d+/hrTimeInZones": "activity_hr_zones.json",
}


def _load(name: str) -> Any:
    return json.loads((FETCH_FIXTURES / name).read_text(encoding="utf-8"))


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _token_store(folder: Path) -> Path:
    """A garminconnect token store whose (dummy, unsigned) token expires in a year: never refreshed."""
    payload = base64.urlsafe_b64encode(json.dumps({"exp": int(time.time()) + 365 * 86400}).encode()).decode()
    token = f"e30.{payload.rstrip('=')}.test-signature"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "garmin_tokens.json").write_text(
        json.dumps({"di_token": token, "di_refresh_token": "test-refresh", "di_client_id": "test-client"})
    )
    return folder


class GarminApi:
    """connectapi on a local server: login answers, the daily samples, activities moved to the test's days."""

    def __init__(self, server: HTTPServer, today: date) -> None:
        self.server = server
        activities = _load("activities_list.json")
        # the three activities, started yesterday (two) and today (one), local time
        days = [today - timedelta(days=1), today - timedelta(days=1), today]
        self.activities = [
            {**a, "startTimeLocal": f"{d} {a['startTimeLocal'][11:]}", "startTimeGMT": f"{d} {a['startTimeGMT'][11:]}"}
            for a, d in zip(activities, days, strict=True)
        ]
        server.expect_request("/userprofile-service/socialProfile").respond_with_json(
            {"displayName": DISPLAY_NAME, "fullName": "REDACTED"}
        )
        server.expect_request("/userprofile-service/userprofile/user-settings").respond_with_json(
            {"userData": {"measurementSystem": "metric"}}
        )
        server.expect_request("/activitylist-service/activities/search/activities").respond_with_handler(self._list)
        for pattern, name in DAILY_SAMPLES.items():
            server.expect_request(re.compile(pattern)).respond_with_json(_load(name))
        server.expect_request(re.compile(".*")).respond_with_data("", status=204)

    def _list(self, request: Request) -> Response:
        return _json(self.activities if request.args.get("start") == "0" else [])

    def paths(self) -> list[str]:
        return [r.path for r, _ in self.server.log]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer, tmp_path: Path) -> Path:
    store = _token_store(tmp_path / "tokens")
    monkeypatch.setenv("GARMIN_TOKENS", str(store))
    monkeypatch.setenv("INGESTOR_GARMIN_API_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("INGESTOR_GARMIN_DAYS", "2")
    monkeypatch.setenv("INGESTOR_HTTP_BACKOFF", "0.01")
    for name in ("GARMIN_USERNAME", "GARMIN_PASSWORD", "INGESTOR_SERVICE", "INGESTOR_DATA_TYPES"):
        monkeypatch.delenv(name, raising=False)
    return store


@pytest.fixture
def today() -> date:
    """The UTC date the fetch sees ("today" for the fetcher): a test that would start in the last
    minute of a day waits for the next one, so that the date cannot change while it runs."""
    now = datetime.now(UTC)
    left = (datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC) - now).total_seconds()
    if left < 60:
        time.sleep(left + 0.1)
    return datetime.now(UTC).date()


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path / "data", ingestor_garmin.plugin)


def fetch(h: Harness, *args: str) -> tuple[int, dict[str, Any], str]:
    result = h.fetch("--service", "garmin", "--json", *args)
    payload = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, payload, result.output + (result.stderr or "")


def by_type(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["data_type"]: d for d in payload["services"][0]["data_types"]}


def test_fetch_every_type_with_date_and_data_type(
    harness: Harness, httpserver: HTTPServer, env: Path, today: date
) -> None:
    yesterday = today - timedelta(days=1)
    api = GarminApi(httpserver, today)
    code, payload, output = fetch(harness)
    assert code == 0, output
    types = by_type(payload)
    assert len(types) == 29
    counts = {t: d["records"] for t, d in types.items() if d["records"]}
    assert counts == {
        "activities": 3, "activity_hr_zones": 3, "sleep": 2, "heart_rate": 2, "stress": 2, "user_summary": 2,
        "hrv": 2, "training_readiness": 2 * len(_load("training_readiness.json")), "rhr_daily": 2,
        "stats_and_body": 2,  # get_stats_and_body: the daily summary merged with the (empty) body composition
        "weight": 2 * len(_load("weight_dayview.json")["dateWeightList"]),
    }  # fmt: skip
    sleep = harness.records(types["sleep"]["files"][0])
    assert [(r["date"], r["data_type"]) for r in sleep] == [(str(yesterday), "sleep"), (str(today), "sleep")]
    assert sleep[0]["dailySleepDTO"] == _load("sleep_daily.json")["dailySleepDTO"]
    zones = harness.records(types["activity_hr_zones"]["files"][0])
    assert zones[0]["activityId"] == api.activities[0]["activityId"]
    assert zones[0]["hr_zones_data"] == _load("activity_hr_zones.json")
    assert set(zones[0]) == {
        "activityId",
        "activityName",
        "activityType",
        "startTimeLocal",
        "hr_zones_data",
        "data_type",
    }
    assert re.fullmatch(r"garmin/landing/\d{4}(_\d{2}){5}_\d{6}_garmin_sleep\.jsonl", types["sleep"]["files"][0])
    assert types["sleep"]["bookmark_after"]["through"] == str(yesterday)
    # what was fetched loads
    loaded = harness.run("--service", "garmin")
    assert loaded.exit_code == 0, loaded.output
    assert harness.files("garmin/rejected") == []


def test_second_run_writes_nothing_and_skips_closed_days(
    harness: Harness, httpserver: HTTPServer, env: Path, today: date
) -> None:
    yesterday = today - timedelta(days=1)
    api = GarminApi(httpserver, today)
    assert fetch(harness)[0] == 0
    before = harness.files()
    seen = len(api.paths())
    code, payload, output = fetch(harness)
    assert code == 0, output
    assert {d["status"] for d in payload["services"][0]["data_types"]} == {"up_to_date"}
    assert harness.files() == before
    again = api.paths()[seen:]
    assert not any(str(yesterday) in p for p in again)  # only today is asked again
    assert any(str(today) in p for p in again)


def test_429_with_retry_after_and_a_500_are_retried(
    harness: Harness, httpserver: HTTPServer, env: Path, today: date
) -> None:
    yesterday = today - timedelta(days=1)
    httpserver.expect_oneshot_request(f"/hrv-service/hrv/{today}").respond_with_data(
        "", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_oneshot_request(f"/hrv-service/hrv/{yesterday}").respond_with_data("boom", status=500)
    GarminApi(httpserver, today)
    started = time.monotonic()
    code, payload, output = fetch(harness, "--data-types", "hrv")
    assert code == 0, output
    assert time.monotonic() - started >= 1.0
    assert by_type(payload)["hrv"]["records"] == 2


def test_a_failing_endpoint_fails_its_type_only(
    harness: Harness, httpserver: HTTPServer, env: Path, monkeypatch: pytest.MonkeyPatch, today: date
) -> None:
    monkeypatch.setenv("INGESTOR_HTTP_ATTEMPTS", "1")
    httpserver.expect_request(re.compile(r"/hrv-service/hrv/.*")).respond_with_data("down", status=503)
    GarminApi(httpserver, today)
    code, payload, _ = fetch(harness, "--data-types", "hrv,sleep")
    assert code == 1
    types = by_type(payload)
    assert types["hrv"]["status"] == "failed" and "503" in types["hrv"]["error"]
    assert types["sleep"]["status"] == "fetched"


def test_login_failure_and_missing_credentials(
    harness: Harness, httpserver: HTTPServer, env: Path, monkeypatch: pytest.MonkeyPatch, today: date
) -> None:
    GarminApi(httpserver, today)
    (env / "garmin_tokens.json").write_text("{}")  # an empty token store, and no password to log in with
    code, payload, output = fetch(harness, "--data-types", "sleep,hrv")
    assert code == 1
    errors = {d["error"] for d in payload["services"][0]["data_types"]}
    assert len(errors) == 1 and "Garmin refused the login" in errors.pop()
    assert "test-refresh" not in output
    monkeypatch.delenv("GARMIN_TOKENS")
    result = harness.cli("fetch", "--service", "garmin", "--data-dir", str(harness.root))
    assert result.exit_code == 2 and "GARMIN_TOKENS" in result.stderr


def test_every_garmin_type_has_a_fetcher() -> None:
    from ingestor_garmin import types

    assert set(ingestor_garmin.endpoints.TYPES) == {dt.name for dt in types.DATA_TYPES}


def test_the_entry_point_module_stays_light() -> None:
    """Every `ingestor` command loads the plugins: the fetcher's HTTP stack only comes when garmin is fetched."""
    import subprocess
    import sys

    heavy = ("httpx", "tenacity", "garminconnect", "ingestor.fetching")
    probe = (
        "import sys, ingestor_garmin.plugin; ingestor_garmin.plugin.services(); "
        f"print(sorted(m for m in sys.modules if m.startswith({heavy!r})))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class TestFetcherConformance(FetcherConformance):
    """The core's fetcher check, against the recorded Garmin Connect responses."""

    plugin = ingestor_garmin.plugin

    @pytest.fixture
    def recorded_api(self, httpserver: HTTPServer, tmp_path: Path, today: date) -> dict[str, str]:
        GarminApi(httpserver, today)
        return {
            "GARMIN_TOKENS": str(_token_store(tmp_path / "tokens")),
            "INGESTOR_GARMIN_API_URL": httpserver.url_for("/").rstrip("/"),
            "INGESTOR_GARMIN_DAYS": "2",
        }
