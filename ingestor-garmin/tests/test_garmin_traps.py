"""The shapes that break naive loaders: dynamic-key maps, arrays of arrays, backfill names, drifting types."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from ingestor.catalog import SourceFile
from ingestor.testing import Harness
from ingestor_garmin import plugin
from ingestor_garmin.types import DATA_TYPES

TYPES = {dt.name: dt for dt in DATA_TYPES}
Samples = Callable[[str], list[dict[str, Any]]]
Loader = Callable[[str], Any]
SOURCE = SourceFile(name="garmin/landing/x_garmin_test.jsonl")


def table(name: str) -> str:
    """The qualified table of a data type (env dev)."""
    return f"dp_normalized_dev.normalized_garmin__{name}"


def run(h: Harness) -> dict[str, Any]:
    """Ingest garmin; assert success and that every file loaded; the JSON report."""
    result = h.run("--service", "garmin", "--json")
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = orjson.loads(result.stdout)
    assert {f["status"] for f in report["files"]} == {"loaded"}
    return report


def column_types(h: Harness, name: str) -> dict[str, str]:
    """Column name -> DuckDB type of a data type's table."""
    rows = h.query(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
        [f"normalized_garmin__{name}"],
    )
    return dict(rows)


def data_named_fields(types: dict[str, str]) -> list[str]:
    """Column or struct-field names that are data (ids, dates), as sanitize_column would spell them."""
    text = " ".join([*types, *types.values()])
    return re.findall(r'(?:^|[(,\s])"?(_\d[\w]*)"?\s', text)


# -- dynamic-key maps ---------------------------------------------------------------
def test_device_id_keyed_maps_become_key_value_records_not_columns(
    tmp_path: Path, sample_records: Samples, load_fixture: Loader
) -> None:
    h = Harness(tmp_path, plugin)
    h.land("garmin/landing/2025_06_12_06_15_garmin_training_status.jsonl", sample_records("training_status"))
    run(h)
    types = column_types(h, "training_status")
    assert data_named_fields(types) == []
    assert "3469703076" not in " ".join(types.values())
    status = types["mostRecentTrainingStatus"]
    assert 'latestTrainingStatusData STRUCT("key" VARCHAR, "value" STRUCT(' in status
    keys = h.query(
        f"""SELECT date, e.key, e.value.trainingStatus, e.value.deviceId FROM {table("training_status")},
            unnest(coalesce(mostRecentTrainingStatus.latestTrainingStatusData,
                            mostRecentTrainingStatus.payload.latestTrainingStatusData)) AS u(e) ORDER BY date"""
    )
    assert [(str(d), k, s, dev) for d, k, s, dev in keys] == [
        ("2025-06-11", "3469703076", 7, 3469703076),
        ("2026-01-15", "2", 10, 3),
    ]

    # A new device next time adds rows to the list, never a column.
    another = load_fixture("structure_only/training_status_aggregated.json")
    device_map = another["mostRecentTrainingStatus"]["latestTrainingStatusData"]
    device_map["999888777"] = device_map.pop("2")
    h.land("garmin/landing/2026_01_16_06_15_garmin_training_status.jsonl", [{**another, "date": "2026-01-16"}])
    report = run(h)
    assert report["tables"][0]["columns_added"] == []
    assert column_types(h, "training_status") == types


def test_date_keyed_and_metric_keyed_maps_become_key_value_records(
    tmp_path: Path, sample_records: Samples, load_fixture: Loader
) -> None:
    h = Harness(tmp_path, plugin)
    for name in ("endurance_score", "hill_score", "rhr_daily"):
        h.land(f"garmin/landing/2025_07_08_06_15_garmin_{name}.jsonl", sample_records(name))
    run(h)
    for name in ("endurance_score", "hill_score", "rhr_daily"):
        assert data_named_fields(column_types(h, name)) == [], name
    daily = load_fixture("endurance_score_daily__multi.json")
    groups = h.query(
        f"SELECT g.key, g.value.groupAverage FROM {table('endurance_score')}, unnest(groupMap) AS u(g) ORDER BY 1"
    )
    assert groups == sorted((d["calendarDate"], d["overallScore"]) for d in daily)
    # The single-day payload has no startDate: its calendarDate stands in for the natural key.
    starts = h.query(f"SELECT startDate::VARCHAR, endDate IS NULL FROM {table('endurance_score')} ORDER BY 1, 2")
    assert starts == [("2025-07-06", False), ("2025-07-06", True), ("2025-07-07", True)]
    # A map under a name the plugin does not know is recognised by its date keys.
    assert h.query(f"SELECT p.key FROM {table('hill_score')}, unnest(periodAvgScore) AS u(p) ORDER BY 1") == [
        ("2025-07-06",),
        ("2025-07-07",),
    ]
    rhr = h.query(
        f"""SELECT m.key, v.value FROM {table("rhr_daily")}, unnest(allMetrics.metricsMap) AS u(m),
            unnest(m.value) AS w(v)"""
    )
    assert rhr == [("WELLNESS_RESTING_HEART_RATE", 56.0)]


# -- arrays of arrays ---------------------------------------------------------------
def test_value_arrays_become_records_with_the_seeds_field_names(
    tmp_path: Path, sample_records: Samples, load_fixture: Loader
) -> None:
    h = Harness(tmp_path, plugin)
    for name in ("heart_rate", "stress", "respiration", "body_battery"):
        h.land(f"garmin/landing/2025_07_08_06_15_garmin_{name}.jsonl", sample_records(name))
    run(h)

    raw = load_fixture("heart_rate_daily.json")["heartRateValues"]
    assert column_types(h, "heart_rate")["heartRateValues"] == 'STRUCT("timestamp" BIGINT, "value" BIGINT)[]'
    got = h.query(
        f"SELECT count(*), sum(p.value), min(p.timestamp) FROM "
        f"(SELECT unnest(heartRateValues) AS p FROM {table('heart_rate')})"
    )
    assert got == [(len(raw), sum(v for _, v in raw if v is not None), min(t for t, _ in raw))]

    stress = load_fixture("stress_daily.json")
    battery = h.query(
        f"SELECT count(*), count(p.value), sum(p.value), count(p.type), any_value(p.score) FROM "
        f"(SELECT unnest(bodyBatteryValuesArray) AS p FROM {table('stress')})"
    )
    levels = [row[2] for row in stress["bodyBatteryValuesArray"] if row[2] is not None]
    kinds = [row[1] for row in stress["bodyBatteryValuesArray"] if row[1] is not None]
    assert battery == [(len(stress["bodyBatteryValuesArray"]), len(levels), sum(levels), len(kinds), 2.0)]
    # The seed names a stress sample [timestamp, level] {timestamp, type}: its SQL reads `type`.
    assert column_types(h, "stress")["stressValuesArray"] == 'STRUCT("timestamp" BIGINT, "type" BIGINT)[]'
    measured = h.query(
        f"SELECT count(*) FILTER (WHERE p.type < 0) FROM (SELECT unnest(stressValuesArray) AS p FROM {table('stress')})"
    )
    assert measured == [(sum(1 for _, v in stress["stressValuesArray"] if v < 0),)]

    averages = column_types(h, "respiration")["respirationAveragesValuesArray"]
    assert averages == 'STRUCT("timestamp" BIGINT, average DOUBLE, high DOUBLE, low DOUBLE)[]'
    report_levels = h.query(
        f"SELECT sum(p.value) FROM (SELECT unnest(bodyBatteryValuesArray) AS p FROM {table('body_battery')})"
    )
    assert report_levels == [(sum(levels),)]


def test_activity_detail_rows_become_records_named_by_metric_descriptors(
    tmp_path: Path, sample_records: Samples, load_fixture: Loader
) -> None:
    h = Harness(tmp_path, plugin)
    h.land("garmin/landing/2026_01_16_06_15_garmin_activity_details.jsonl", sample_records("activity_details"))
    run(h)
    details = load_fixture("structure_only/activity_details.json")
    names = [d["key"] for d in details["metricDescriptors"]]
    types = column_types(h, "activity_details")
    for name in names:
        assert f"{name} DOUBLE" in types["activityDetailMetrics"]
        assert f"{name} DOUBLE" in types["detailed_data"]
    got = h.query(
        f"SELECT sum(m.directSpeed) FROM (SELECT unnest(activityDetailMetrics) AS m FROM {table('activity_details')})"
    )
    speed = names.index("directSpeed")
    assert got[0][0] == sum(row["metrics"][speed] for row in details["activityDetailMetrics"])


# -- file names ---------------------------------------------------------------------
def test_historical_backfill_files_load_and_keep_their_folder(tmp_path: Path, sample_records: Samples) -> None:
    h = Harness(tmp_path, plugin)
    name = "garmin/landing/backfill/2025_07_01_to_2025_07_31_HISTORICAL_garmin_training_readiness.jsonl"
    h.land(name, sample_records("training_readiness"))
    h.land("garmin/landing/2025_07_08_06_15_garmin_sleep.jsonl.gz", sample_records("sleep"))
    report = run(h)
    assert {(f["data_type"], f["destination"]) for f in report["files"]} == {
        ("training_readiness", name.replace("/landing/", "/archive/")),
        ("sleep", "garmin/archive/2025_07_08_06_15_garmin_sleep.jsonl.gz"),
    }
    assert h.query(f"SELECT count(DISTINCT (calendarDate, timestamp)) FROM {table('training_readiness')}") == [(6,)]


# -- types that drift between files -------------------------------------------------------
def test_a_field_changing_type_between_files_of_one_run_keeps_every_value(
    tmp_path: Path, sample_records: Samples
) -> None:
    h = Harness(tmp_path, plugin)
    first = sample_records("stats_and_body")[0]
    second = {**first, "calendarDate": "2026-06-23", "date": "2026-06-23", "userDailySummaryId": "999000112-b"}
    h.land("garmin/landing/2026_06_23_06_15_garmin_stats_and_body.jsonl", [first])
    h.land("garmin/landing/2026_06_24_06_15_garmin_stats_and_body.jsonl", [second])
    report = run(h)
    assert any("userDailySummaryId" in note for note in report["tables"][0]["notes"])
    assert column_types(h, "stats_and_body")["userDailySummaryId"] == "JSON"
    values = h.query(
        f"SELECT calendarDate::VARCHAR, userDailySummaryId::VARCHAR FROM {table('stats_and_body')} ORDER BY 1"
    )
    assert values == [("2026-06-22", "999000111"), ("2026-06-23", '"999000112-b"')]


def test_a_field_changing_type_in_a_later_run_goes_to_a_variant_column(tmp_path: Path, sample_records: Samples) -> None:
    h = Harness(tmp_path, plugin)
    first = sample_records("user_summary")[0]
    h.land("garmin/landing/2025_06_15_06_15_garmin_user_summary.jsonl", [first])
    run(h)
    assert column_types(h, "user_summary")["totalDistanceMeters"] == "BIGINT"
    second = {**first, "date": "2025-06-15", "totalDistanceMeters": 5123.5, "source": {"kind": "GARMIN"}}
    second["totalSteps"] = "many"
    h.land("garmin/landing/2025_06_16_06_15_garmin_user_summary.jsonl", [second])
    report = run(h)
    assert report["tables"][0]["columns_widened"] == ["totalDistanceMeters INT64 -> FLOAT64"]
    # The table's STRING column takes the object as text; its INT64 column cannot take "many".
    rows = h.query(
        f"SELECT date, totalDistanceMeters, source, totalSteps, totalSteps__v_json::VARCHAR "
        f"FROM {table('user_summary')} ORDER BY 1"
    )
    assert rows == [
        ("2025-06-14", 4471.0, "GARMIN", first["totalSteps"], None),
        ("2025-06-15", 5123.5, '{"kind":"GARMIN"}', None, '"many"'),
    ]


# -- normalizers --------------------------------------------------------------------
def test_normalizers_are_pure(sample_records: Samples) -> None:
    for name, dt in TYPES.items():
        assert dt.normalize is not None
        for record in sample_records(name):
            before = copy.deepcopy(record)
            first = dt.normalize(record, SOURCE)
            assert record == before, name
            assert dt.normalize(record, SOURCE) == first, name


def test_legacy_fetcher_envelopes_are_lifted(load_fixture: Loader) -> None:
    summary = load_fixture("user_summary_daily.json")
    dt = TYPES["user_summary"]
    assert dt.normalize is not None
    lifted = dt.normalize({"date": "2025-06-14", "summary_data": summary, "data_type": "user_summary"}, SOURCE)
    assert "summary_data" not in lifted
    assert lifted["totalSteps"] == summary["totalSteps"] and lifted["date"] == "2025-06-14"

    details = TYPES["activity_details"].normalize
    assert details is not None
    legacy = {"com.garmin.activity.details.json.ActivityDetails": {"activityId": 42, "isDetailsAvailable": True}}
    assert details(legacy, SOURCE) == {"activityId": 42, "isDetailsAvailable": True}
    splits = TYPES["activity_splits"].normalize
    assert splits is not None
    assert splits({"activityId": 1, "activityType": "", "activityName": "x"}, SOURCE) == {
        "activityId": 1,
        "activityName": "x",
    }


def test_weight_keeps_the_apis_epoch_date_apart_from_its_calendar_date(tmp_path: Path, sample_records: Samples) -> None:
    h = Harness(tmp_path, plugin)
    records = sample_records("weight")
    h.land("garmin/landing/2025_06_16_06_15_garmin_weight.jsonl", records)
    run(h)
    types = column_types(h, "weight")
    assert (types["calendarDate"], types["date"], types["timestampGMT"]) == ("VARCHAR", "BIGINT", "BIGINT")
    got = h.query(f"SELECT calendarDate, date FROM {table('weight')} ORDER BY date")
    assert got == sorted(((r["calendarDate"], r["date"]) for r in records), key=lambda row: row[1])
