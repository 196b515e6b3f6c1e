"""Latest views by key (`ingestor.latest`) on the BigQuery API server."""

from __future__ import annotations

import pytest

from .conftest import CloudHarness

pytestmark = pytest.mark.timeout(300)


def test_the_latest_view_holds_the_newer_row_of_a_key_and_follows_new_columns(cloud: CloudHarness) -> None:
    cloud.land("acme/landing/2025_01_02_acme_things.jsonl", [{"id": 1, "kind": "new"}, {"id": 2, "kind": "b"}])
    cloud.land("acme/landing/2025_01_01_acme_things.jsonl", [{"id": 1, "kind": "old"}])
    first = cloud.run()
    assert first.exit_code == 0, first.output
    view = f"{cloud.dataset}.things__latest"
    assert "things__latest" in cloud.tables() and "events__latest" not in cloud.tables()
    rows = cloud.query(f"SELECT id, kind FROM {view} ORDER BY id")
    assert rows == [{"id": 1, "kind": "new"}, {"id": 2, "kind": "b"}]  # one run: the later file name wins

    cloud.land("acme/landing/2024_12_31_acme_things.jsonl", [{"id": 1, "kind": "newest", "extra": "x"}])
    second = cloud.run()
    assert second.exit_code == 0, second.output
    rows = cloud.query(f"SELECT id, kind, extra FROM {view} ORDER BY id")
    assert rows == [{"id": 1, "kind": "newest", "extra": "x"}, {"id": 2, "kind": "b", "extra": None}]
    found = cloud.bq.get_table(view)
    assert found.table_type == "VIEW" and "extra" in [field.name for field in found.schema]  # replaced
