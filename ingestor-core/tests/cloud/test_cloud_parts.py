"""A run in parts from a GCS bucket into BigQuery (the local API servers): each part staged while the one before
it loads, the schema growing from part to part (a column new in a part staged ahead of the load that adds the
one before it), every record loaded once, each part's files archived, the ledger complete."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import CloudHarness

pytestmark = pytest.mark.timeout(300)


def test_a_run_in_parts_stages_each_part_while_the_one_before_loads(
    cloud: CloudHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGESTOR_PART_FILES", "1")
    days: list[tuple[str, list[dict[str, Any]]]] = [
        ("01", [{"id": 1, "kind": "a"}]),
        ("02", [{"id": 2, "kind": "b", "score": 2}]),  # a column new in part 2
        ("03", [{"id": 3, "kind": "c", "score": 3, "extra": {"n": 1}}]),  # and one in part 3
        ("04", [{"id": 4, "kind": "d", "score": 4.5}]),  # score widens in part 4
    ]
    names = [cloud.land(f"acme/landing/2025_01_{day}_00_00_acme_things.jsonl", rows) for day, rows in days]
    run = cloud.run()
    result = cloud.result(run)
    assert [f["status"] for f in result["files"]] == ["loaded"] * 4, run.output
    (table,) = result["tables"]
    assert table["columns_widened"] == ["score INT64 -> FLOAT64"]
    assert {"score INT64", "extra STRUCT<n INT64>"} <= set(table["columns_added"])
    rows = cloud.query(f"SELECT id, kind, score, extra FROM {cloud.dataset}.things ORDER BY id")
    assert [(r["id"], r["kind"], r["score"], r["extra"]) for r in rows] == [
        (1, "a", None, None),
        (2, "b", 2.0, None),
        (3, "c", 3.0, {"n": 1}),
        (4, "d", 4.5, None),
    ]
    ledger = cloud.query(f"SELECT source_name FROM {cloud.dataset}._ingestor_ledger ORDER BY source_name")
    assert [r["source_name"] for r in ledger] == names
    assert cloud.files("acme/landing/") == []
    assert cloud.files("acme/archive/") == [name.replace("/landing/", "/archive/") for name in names]
