"""Fixtures: fetcher-shaped Garmin records built from the real payloads in fixtures/ (see fixtures/SOURCES.md).

`sample_records(type)` gives the NDJSON lines a Garmin fetcher writes for one data type: the API
payload, one line per element when the API returns a list, plus `data_type` and, for daily metrics,
`date`. `load_fixture(name)` gives one fixture file's JSON.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

Record = dict[str, Any]
FIXTURES = Path(__file__).parent / "fixtures"
DEVICE_ID = 3469703076  # the watch of the garth recordings


@cache
def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def read_fixture(name: str) -> Any:
    """A fixture file's JSON (a fresh copy)."""
    return copy.deepcopy(_load(name))


def _tag(records: list[Record], data_type: str, date_from: str | None = None) -> list[Record]:
    out = []
    for record in records:
        extra: Record = {}
        if date_from:
            value: Any = record
            for part in date_from.split("."):
                value = value[part]
            extra["date"] = value[:10]
        out.append({**record, **extra, "data_type": data_type})
    return out


def _activities() -> list[Record]:
    return read_fixture("activities_list.json")


def _copied(activity: Record) -> Record:
    return {k: activity[k] for k in ("activityId", "activityName", "activityType", "startTimeLocal")}


def _body_battery_report() -> Record:
    stress = read_fixture("stress_daily.json")
    return {
        "date": stress["calendarDate"],
        **{k: stress[k] for k in ("startTimestampGMT", "endTimestampGMT", "startTimestampLocal", "endTimestampLocal")},
        "bodyBatteryValuesArray": [[row[0], row[2]] for row in stress["bodyBatteryValuesArray"]],
        "bodyBatteryValueDescriptorDTOList": [
            {"bodyBatteryValueDescriptorIndex": 0, "bodyBatteryValueDescriptorKey": "timestamp"},
            {"bodyBatteryValueDescriptorIndex": 1, "bodyBatteryValueDescriptorKey": "bodyBatteryLevel"},
        ],
    }


def endurance_range(daily: list[Record]) -> Record:
    """The range endpoint's shape (groupMap keyed by date) assembled from real daily payloads."""
    days = sorted(daily, key=lambda d: d["calendarDate"])
    return {
        "userProfilePK": days[-1]["userProfilePK"],
        "startDate": days[0]["calendarDate"],
        "endDate": days[-1]["calendarDate"],
        "avg": sum(d["overallScore"] for d in days) // len(days),
        "max": max(d["overallScore"] for d in days),
        "groupMap": {
            d["calendarDate"]: {
                "groupAverage": d["overallScore"],
                "groupMax": d["overallScore"],
                "enduranceContributorDTOList": d["contributors"],
            }
            for d in days
        },
        "enduranceScoreDTO": days[-1],
    }


def hill_range(daily: list[Record]) -> Record:
    """The hill-score range shape assembled from real daily payloads."""
    days = sorted(daily, key=lambda d: d["calendarDate"])
    return {
        "userProfilePK": days[-1]["userProfilePK"],
        "startDate": days[0]["calendarDate"],
        "endDate": days[-1]["calendarDate"],
        "periodAvgScore": {d["calendarDate"]: d["overallScore"] for d in days},
        "maxScore": max(d["overallScore"] for d in days),
        "hillScoreDTOList": days,
    }


def build_records(data_type: str) -> list[Record]:
    """The lines of one fetcher file of `data_type`, from the real sample payloads."""
    acts = _activities()
    first = acts[0]
    builders = {
        "activities": lambda: _tag(acts, "activities"),
        "activity_details": lambda: (
            _tag([{**first, "detailed_data": read_fixture("structure_only/activity_details.json")}], "activity_details")
            + _tag([read_fixture("structure_only/activity_details.json")], "activity_details")
        ),
        "activity_splits": lambda: _tag(
            [{**_copied(first), "splits": read_fixture("structure_only/activity_splits.json"), "typed_splits": None}],
            "activity_splits",
        ),
        "activity_weather": lambda: _tag(
            [{**_copied(first), "weather_data": read_fixture("handmade/activity_weather.json")}], "activity_weather"
        ),
        "activity_hr_zones": lambda: _tag(
            [{**_copied(a), "hr_zones_data": read_fixture("activity_hr_zones.json")} for a in acts], "activity_hr_zones"
        ),
        "activity_exercise_sets": lambda: _tag(
            [{**_copied(first), "exercise_sets_data": read_fixture("handmade/activity_exercise_sets.json")}],
            "activity_exercise_sets",
        ),
        "sleep": lambda: _tag([read_fixture("sleep_daily.json")], "sleep", "dailySleepDTO.calendarDate"),
        "steps": lambda: _tag(read_fixture("structure_only/steps_chart_daily.json"), "steps", "startGMT"),
        "heart_rate": lambda: _tag([read_fixture("heart_rate_daily.json")], "heart_rate", "calendarDate"),
        "body_battery": lambda: _tag([_body_battery_report()], "body_battery"),
        "stress": lambda: _tag([read_fixture("stress_daily.json")], "stress", "calendarDate"),
        "user_summary": lambda: _tag([read_fixture("user_summary_daily.json")], "user_summary", "calendarDate"),
        "stats_and_body": lambda: _tag([read_fixture("stats_and_body.json")], "stats_and_body", "calendarDate"),
        "training_readiness": lambda: _tag(
            [r for day in read_fixture("training_readiness__multi.json") for r in day],
            "training_readiness",
            "calendarDate",
        ),
        "rhr_daily": lambda: _tag([read_fixture("rhr_daily.json")], "rhr_daily", "statisticsStartDate"),
        "spo2": lambda: _tag([read_fixture("handmade/spo2_daily.json")], "spo2", "calendarDate"),
        "respiration": lambda: _tag(
            [read_fixture("structure_only/respiration_daily.json")], "respiration", "calendarDate"
        ),
        "intensity_minutes": lambda: _tag(
            read_fixture("stats_intensity_minutes_daily.json"), "intensity_minutes", "calendarDate"
        ),
        "max_metrics": lambda: _tag(
            [read_fixture("max_metrics_latest.json"), *read_fixture("structure_only/max_metrics_daily.json")],
            "max_metrics",
            "generic.calendarDate",
        ),
        "all_day_events": lambda: _tag(read_fixture("handmade/all_day_events.json"), "all_day_events", "calendarDate"),
        "device_info": lambda: _tag([{**read_fixture("device_app_info.json"), "deviceId": DEVICE_ID}], "device_info"),
        "training_status": lambda: [
            {
                **read_fixture("structure_only/training_status_aggregated.json"),
                "date": "2026-01-15",
                "data_type": "training_status",
            },
            {**read_fixture("training_status_latest.json"), "date": "2025-06-11", "data_type": "training_status"},
        ],
        "hrv": lambda: _tag([read_fixture("hrv_daily.json")], "hrv", "hrvSummary.calendarDate"),
        "race_predictions": lambda: _tag([read_fixture("structure_only/race_predictions.json")], "race_predictions"),
        "floors": lambda: _tag([read_fixture("handmade/floors_daily.json")], "floors", "startTimestampLocal"),
        "weight": lambda: _tag(
            [
                {**metric, "summaryDate": day["summaryDate"]}
                for day in read_fixture("weight_range.json")["dailyWeightSummaries"]
                for metric in day["allWeightMetrics"]
            ],
            "weight",
        ),
        "body_composition": lambda: _tag([read_fixture("weight_dayview.json")], "body_composition", "startDate"),
        "endurance_score": lambda: _tag(
            [
                endurance_range(read_fixture("endurance_score_daily__multi.json")),
                *read_fixture("endurance_score_daily__multi.json"),
            ],
            "endurance_score",
        ),
        "hill_score": lambda: _tag(
            [hill_range(read_fixture("hill_score_daily__multi.json")), *read_fixture("hill_score_daily__multi.json")],
            "hill_score",
        ),
    }
    return builders[data_type]()


@pytest.fixture
def sample_records() -> Callable[[str], list[Record]]:
    """The fetcher lines of a data type, from the real samples."""
    return build_records


@pytest.fixture
def load_fixture() -> Callable[[str], Any]:
    """A fixture file's JSON (a fresh copy)."""
    return read_fixture


@pytest.fixture(scope="module")
def all_loaded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Every Garmin type loaded from its real-shaped records (one file each) into one DuckDB file."""
    from ingestor.testing import Harness
    from ingestor_garmin import plugin
    from ingestor_garmin.types import DATA_TYPES

    h = Harness(tmp_path_factory.mktemp("garmin"), plugin)
    for dt in DATA_TYPES:
        h.land(f"garmin/landing/2025_07_08_06_15_garmin_{dt.name}.jsonl", build_records(dt.name))
    run = h.run("--service", "garmin", "--json")
    assert run.exit_code == 0, run.stderr
    return h
