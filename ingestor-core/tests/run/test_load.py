"""`ingestor.run.load`: a data type's batch loads as one (rows and ledger, all or nothing); rows the warehouse refuses
split it in halves until the bad file is isolated; and the load returns what it did, each half's records (their
`load` filled in) as that half ends, to the run that settles them. Real local landing zone, real DuckDB; the
refusal is DuckDB's own conversion error, raised for the file marked `bad` (real bad rows would be rejected
earlier, by staging)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from ingestor.errors import ReasonCode
from ingestor.plugins import Plugins
from ingestor.result import TableLoad
from ingestor.run.context import RunContext
from ingestor.run.engine import ServiceIngest
from ingestor.run.fate import Happened
from ingestor.run.scan import scan
from ingestor.run.settle import Settler

DAYS = ("01", "02", "03")


@pytest.fixture
def refusing(duckdb_fails_on: Callable[[bytes, type[Exception], str], None]) -> None:
    """DuckDB refuses the rows of any insert that holds the file marked `bad`."""
    duckdb_fails_on(b'"bad"', duckdb.ConversionException, "Conversion Error: Could not convert string 'bad' to INT64")


def test_a_load_returns_each_half_as_it_ends_and_loads_the_next_only_when_asked(
    tmp_path: Path,
    refusing: None,
    acme_plugins: Plugins,
    run_context: Callable[..., AbstractContextManager[RunContext]],
) -> None:
    root = tmp_path / "landing"
    for day in DAYS:
        path = root / "acme" / "landing" / f"2025_01_{day}_00_00_acme_events.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps({"id": int(day), "mark": "bad" if day == "02" else "ok"}) + b"\n")
    plugins = acme_plugins
    staging = tmp_path / "staging"
    staging.mkdir()
    with run_context(root, tmp_path / "w.duckdb", plugins.catalog) as context:
        landing, warehouse = context.landing, context.warehouse
        ingest = ServiceIngest("acme", context, staging, Settler(landing, context.run_id, False, lambda outcome: None))
        events = plugins.catalog.get("acme", "events")
        assert events is not None
        records = [
            Happened(file, "acme", "events", match=match)
            for file, match in scan("acme", landing, plugins.catalog).batches["events"]
        ]
        ingest.settler.expect(records)
        ingest._summaries["events"] = TableLoad(service="acme", data_type="events", table="t", files=0, rows=0)
        planned = ingest.prepare.plan(events, records, (staging / f"{n}.jsonl" for n in itertools.count(1)), None)
        assert planned is not None
        batch = ingest.prepare.ready(planned, ingest.prepare.stage(planned))
        assert batch is not None and [h for h, _ in batch.files] == records

        def loaded() -> list[tuple[Any, ...]]:
            return warehouse.con.execute("SELECT id FROM lake_dev.acme__events ORDER BY id").fetchall()  # type: ignore[attr-defined, no-any-return]

        ended = ingest.loader.load(batch)
        assert [h.load for h in records] == [None] * 3  # nothing loads before the first result is asked for
        first = next(ended)  # the whole batch was refused and split: its first half ([01]) committed
        assert first == records[:1] and first[0].load is not None and first[0].load.error is None
        assert loaded() == [(1,)]
        assert records[2].load is None  # the other half waits for the caller
        second = next(ended)  # [02, 03] refused, split again: [02] refused alone
        assert (
            second == records[1:2]
            and second[0].load is not None
            and second[0].load.code is ReasonCode.WAREHOUSE_REFUSED
        )
        third = next(ended)
        assert third == records[2:] and third[0].load is not None and third[0].load.error is None
        assert loaded() == [(1,), (3,)]
        assert next(ended, None) is None
