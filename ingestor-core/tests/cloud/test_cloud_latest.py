"""Latest views by key (`ingestor.run.latest`) on the BigQuery API server."""

from __future__ import annotations

import pytest

from .conftest import CloudHarness

pytestmark = pytest.mark.timeout(300)


def test_the_latest_view_holds_the_newer_row_of_a_key_and_follows_new_columns(cloud: CloudHarness) -> None:
    twice = [{"id": 2, "kind": "b"}, {"id": 2, "kind": "c"}]  # alike in key, run and file: one of them, always
    cloud.land("acme/landing/2025_01_02_acme_things.jsonl", [{"id": 1, "kind": "new"}, *twice])
    cloud.land("acme/landing/2025_01_01_acme_things.jsonl", [{"id": 1, "kind": "old"}])
    first = cloud.run()
    assert first.exit_code == 0, first.output
    view = f"{cloud.dataset}.things__latest"
    assert "things__latest" in cloud.tables() and "events__latest" not in cloud.tables()
    rows = cloud.query(f"SELECT id, kind FROM {view} ORDER BY id")
    assert rows[0] == {"id": 1, "kind": "new"}  # one run: the later file name wins
    assert [r["id"] for r in rows] == [1, 2] and rows[1] in twice
    assert all(cloud.query(f"SELECT id, kind FROM {view} ORDER BY id") == rows for _ in range(3))

    cloud.land("acme/landing/2024_12_31_acme_things.jsonl", [{"id": 1, "kind": "newest", "extra": "x"}])
    second = cloud.run()
    assert second.exit_code == 0, second.output
    rows = cloud.query(f"SELECT id, kind, extra FROM {view} ORDER BY id")
    assert rows[0] == {"id": 1, "kind": "newest", "extra": "x"}  # a later run wins, whatever its file's name
    assert (rows[1]["id"], rows[1]["extra"]) == (2, None) and len(rows) == 2
    found = cloud.bq.get_table(view)
    assert found.table_type == "VIEW" and "extra" in [field.name for field in found.schema]  # replaced
