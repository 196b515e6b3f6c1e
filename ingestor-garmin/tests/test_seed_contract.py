"""The seed system's contract: every column its Garmin dbt staging models read exists, in a type its
SQL accepts, on tables loaded from real-shaped payloads (fixtures: SOURCES.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
MODELS = json.loads((FIXTURES / "seed_downstream_columns.json").read_text())["models"]
# Columns the seed kept as STRING and its SQL parses (PARSE_DATE, PARSE_TIMESTAMP, ...): never DATE or TIMESTAMP.
TEMPORAL = ("date", "Date", "Local", "GMT", "Gmt")


def table_columns(h: Any, dataset: str, table: str) -> dict[str, str]:
    return {name.lower(): kind for name, kind in h.columns(dataset, table).items()}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_column_a_staging_model_reads_exists(all_loaded: Any, model: str) -> None:
    spec = MODELS[model]
    got = table_columns(all_loaded, spec["dataset"].format(env="dev"), spec["table"])
    missing = sorted(c for c in spec["columns_selected"] if c.lower() not in got)
    assert not missing, f"{model} reads columns {spec['table']} lacks: {missing}"
    parsed = sorted(
        c
        for c in spec["columns_selected"]
        if c.endswith(TEMPORAL) and got[c.lower()] in ("DATE", "TIMESTAMP WITH TIME ZONE")
    )
    assert not parsed, f"{model}: the seed kept these as STRING: {parsed}"
    assert got["_source_file"] == "VARCHAR" and got["data_type"] == "VARCHAR"
    # Every real value fitted its declared column (none went to a `__v_json` sibling).
    assert not [c for c in got if c.endswith("__v_json")], model


# -- files from the seed's fetchers and from ours give the same rows ---------------------------------
SEED_NAMES = {  # the seed fetchers' names for rows of arrays of arrays (its README's facts)
    "stressValuesArray": ("timestamp", "type", "value", "score"),
    "respirationAveragesValuesArray": ("timestamp", "average", "high", "low"),
    "floorValuesArray": ("start_time", "end_time", "ascended", "descended"),
    "spO2SingleValues": ("timestamp", "value", "type"),
}


def seed_clean(value: Any, key: str = "") -> Any:
    """A record as the seed's fetchers wrote it: null and {} values dropped, arrays of arrays as
    records with its field names, activity-detail metric rows keyed by their descriptors."""
    if type(value) is dict:
        out = {k: seed_clean(v, k) for k, v in value.items() if v is not None and v != {}}
        if "metricDescriptors" in out and "activityDetailMetrics" in out:
            keys = {d["metricsIndex"]: d["key"] for d in value["metricDescriptors"]}
            out["activityDetailMetrics"] = [
                {keys[i]: v for i, v in enumerate(row["metrics"]) if v is not None and i in keys}
                for row in value["activityDetailMetrics"]
            ]
        return out
    if type(value) is list and value and all(type(row) is list for row in value):
        width = len(value[0])
        names = SEED_NAMES.get(key)
        if key == "bodyBatteryValuesArray":
            names = {2: ("timestamp", "value"), 4: ("timestamp", "type", "value", "score")}.get(width)
        if names is None:
            names = ("timestamp", "value") if width == 2 else tuple(f"val_{i}" for i in range(width))
        return [dict(zip(names, row[: len(names)], strict=False)) for row in value]
    if type(value) is list:
        return [seed_clean(item, key) for item in value]
    return value


def table_dump(h: Any, table: str) -> tuple[list[Any], list[str]]:
    columns = h.columns("dp_normalized_dev", table)
    names = [c for c in columns if c != "_dp_inserted_at"]  # in the table's order, as SELECT * gives the values
    rows = h.query(f"SELECT * EXCLUDE (_dp_inserted_at) FROM dp_normalized_dev.{table}")
    return sorted(columns.items()), sorted(repr(sorted(zip(names, row, strict=True))) for row in rows)


def test_files_from_the_seeds_fetchers_and_ours_give_the_same_tables(
    tmp_path: Path, sample_records: Callable[[str], list[dict[str, Any]]]
) -> None:
    """The seed's files are cleaned and carry `data_type`; ours hold the raw payloads (here without
    `data_type`, as a fetcher that does not write it)."""
    from ingestor.testing import Harness
    from ingestor_garmin import plugin
    from ingestor_garmin.types import DATA_TYPES

    ours, seeds = Harness(tmp_path / "ours", plugin), Harness(tmp_path / "seed", plugin)
    for dt in DATA_TYPES:
        name = f"garmin/landing/2025_07_08_06_15_garmin_{dt.name}.jsonl"
        records = sample_records(dt.name)
        ours.land(name, [{k: v for k, v in r.items() if k != "data_type"} for r in records])
        seeds.land(name, [seed_clean({**r, "data_type": dt.name}) for r in records])
    for h in (ours, seeds):
        run = h.run("--service", "garmin")
        assert run.exit_code == 0, run.stderr
    different = [
        dt.name for dt in DATA_TYPES if table_dump(ours, dt.table_for("dev")) != table_dump(seeds, dt.table_for("dev"))
    ]
    assert not different
