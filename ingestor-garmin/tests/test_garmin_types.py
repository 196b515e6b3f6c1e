"""Every Garmin data type: declaration, file-name matching, and a real-shaped file loading end to end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingestor.catalog import Catalog
from ingestor.testing import Harness
from ingestor_garmin import plugin
from ingestor_garmin.types import DATA_TYPES

CONTRACT_TYPES = [
    "activities",
    "activity_details",
    "activity_splits",
    "activity_weather",
    "activity_hr_zones",
    "activity_exercise_sets",
    "sleep",
    "steps",
    "heart_rate",
    "body_battery",
    "stress",
    "user_summary",
    "stats_and_body",
    "training_readiness",
    "rhr_daily",
    "spo2",
    "respiration",
    "intensity_minutes",
    "max_metrics",
    "all_day_events",
    "device_info",
    "training_status",
    "hrv",
    "race_predictions",
    "floors",
    "weight",
    "body_composition",
    "endurance_score",
    "hill_score",
]
# Natural keys that downstream models deduplicate on (data contracts).
CONTRACT_KEYS = {
    **dict.fromkeys(["activities", "activity_details", "activity_splits", "activity_weather"], ("activityId",)),
    **dict.fromkeys(["activity_hr_zones", "activity_exercise_sets"], ("activityId",)),
    **dict.fromkeys(
        ["sleep", "body_battery", "body_composition", "floors", "hrv", "max_metrics", "rhr_daily"], ("date",)
    ),
    **dict.fromkeys(["training_status", "user_summary"], ("date",)),
    **dict.fromkeys(
        ["heart_rate", "intensity_minutes", "respiration", "spo2", "stress", "stats_and_body", "race_predictions"],
        ("calendarDate",),
    ),
    "weight": ("calendarDate",),
    "steps": ("startGMT",),
    "all_day_events": ("calendarDate", "startTimestampLocal"),
    "training_readiness": ("calendarDate", "timestamp"),
    "endurance_score": ("startDate",),
    "hill_score": ("startDate",),
    "device_info": ("deviceId",),
}
TYPES = {dt.name: dt for dt in DATA_TYPES}


def test_declares_the_29_contract_types_with_their_tables_and_keys() -> None:
    assert [dt.name for dt in list(plugin.services()[0].data_types)] == CONTRACT_TYPES
    for dt in list(plugin.services()[0].data_types):
        assert dt.service == "garmin"
        assert (dt.dataset_for("prd"), dt.table_for("prd")) == ("dp_normalized_prd", f"normalized_garmin__{dt.name}")
        assert dt.primary_key == CONTRACT_KEYS[dt.name], dt.name
        assert dt.normalize is not None
        assert dt.inserted_at_column == "_dp_inserted_at"
        # The seed's typing: dates and times stay STRING, so nothing is partitioned on them.
        assert dt.partition_by is None and not dt.schema_hints, dt.name
        assert dt.column_defaults == {"data_type": dt.name} and dt.source_file_value == "name"


@pytest.mark.parametrize("name", CONTRACT_TYPES)
def test_file_names_of_both_conventions_match_exactly_their_type(name: str) -> None:
    catalog = Catalog(list(plugin.services()[0].data_types))
    for filename in (
        f"2025_01_05_06_15_garmin_{name}.jsonl",
        f"2025_01_05_06_15_garmin_{name}.jsonl.gz",
        f"2024_01_01_to_2024_01_31_HISTORICAL_garmin_{name}.jsonl",
    ):
        match = catalog.match("garmin", filename)
        assert match is not None and match.data_type.name == name, filename
    assert catalog.match("garmin", f"2025_01_05_06_15_garmin_{name}_extra.jsonl") is None
    assert catalog.match("garmin", f"2025_01_05_06_15_garmin_{name}.json") is None


def test_similar_type_names_never_steal_each_others_files() -> None:
    catalog = Catalog(list(plugin.services()[0].data_types))
    for name in CONTRACT_TYPES:
        others = [dt.name for dt in DATA_TYPES if dt.name != name and dt.match(f"2025_01_05_06_15_garmin_{name}")]
        assert others == [], name
    assert catalog.match("garmin", "2025_01_05_06_15_garmin_activity.jsonl") is None
    assert catalog.match("garmin", "2025_01_05_06_15_garmin_daily_summary.jsonl") is None


@pytest.mark.parametrize("name", CONTRACT_TYPES)
def test_a_real_shaped_file_loads_into_its_table(
    tmp_path: Path, name: str, sample_records: Callable[[str], list[dict[str, Any]]]
) -> None:
    records = sample_records(name)
    assert records
    h = Harness(tmp_path, plugin)
    landed = f"garmin/landing/2025_07_08_06_15_garmin_{name}.jsonl"
    h.land(landed, records)

    result = h.run("--service", "garmin", "--json")

    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert [(f["data_type"], f["status"]) for f in report["files"]] == [(name, "loaded")]
    table = f"dp_normalized_dev.normalized_garmin__{name}"
    key = TYPES[name].primary_key
    not_null = " AND ".join(f'"{k}" IS NOT NULL' for k in key)
    assert h.query(f"SELECT count(*), count(*) FILTER (WHERE {not_null}) FROM {table}") == [
        (len(records), len(records))
    ]
    sources = h.query(f"SELECT DISTINCT _source_file, typeof(_dp_inserted_at), data_type FROM {table}")
    assert sources == [(landed.rsplit("/", 1)[1], "TIMESTAMP WITH TIME ZONE", name)]
    assert h.files("garmin/landing") == []
    assert h.files("garmin/archive") == [landed.replace("landing", "archive")]
