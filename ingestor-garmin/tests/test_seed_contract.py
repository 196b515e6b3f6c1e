"""The seed system's contract: every column its Garmin dbt staging models read exists, in a type its
SQL accepts, on tables loaded from real-shaped payloads (fixtures: SOURCES.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
MODELS = json.loads((FIXTURES / "seed_downstream_columns.json").read_text())["models"]
# Columns the seed kept as STRING and its SQL parses (PARSE_DATE, PARSE_TIMESTAMP, ...): never DATE or TIMESTAMP.
TEMPORAL = ("date", "Date", "Local", "GMT", "Gmt")


def table_columns(h: Any, dataset: str, table: str) -> dict[str, str]:
    rows = h.query(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
        [dataset, table],
    )
    return {name.lower(): kind for name, kind in rows}


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
