"""The schema policy end to end on the embedded backend:
no value lost to a key's spelling (every key of a record lands in
exactly one column, variant routing included) and no lossy change (an integer beyond 2^53 never shares a
column with a float; a hand-made column keeps its type and takes only what it holds exactly). Every file
loads: nothing is rejected for a value's type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingestor.catalog import DataType
from ingestor.result import IngestResult
from ingestor.testing import Declarations, Harness

THINGS = Declarations(DataType(service="acme", name="things", dataset="lake_{env}", table="things"))
BIG = 9007199254740993  # 2^53 + 1: a FLOAT64 makes it 9007199254740992.0


def name(n: int) -> str:
    return f"acme/landing/2025_01_01_00_{n:02d}_acme_things.jsonl"


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path, THINGS)


def ingest(h: Harness, *batches: list[dict[str, Any]]) -> IngestResult:
    """Land each batch as a file and run once for all of them; every file must load."""
    for records in batches:
        h.land(name(len(h.files("acme/archive")) + len(h.files("acme/landing"))), records)
    run = h.run("--service", "acme", "--json")
    assert run.exit_code == 0, run.stderr
    result = IngestResult.model_validate_json(run.stdout)
    assert {f.status.value for f in result.files} == {"loaded"}, [f.reason for f in result.files]
    return result


def notes(result: IngestResult) -> str:
    return " | ".join(note for table in result.tables for note in table.notes)


def test_two_spellings_of_a_typed_column_both_stored(h: Harness) -> None:
    """Both spellings went to `v__v_json`, the second overwriting the first (also nested, and for the
    metadata column `_dp_inserted_at`)."""
    ingest(h, [{"id": 0, "v": 1, "o": {"w": 1}}])
    ingest(
        h,
        [
            {
                "id": 1,
                "v": "lower",
                "V": "UPPER",
                "o": {"w": "a", "W": "b"},
                "_dp_inserted_at": "x",
                "_DP_INSERTED_AT": "y",
            }
        ],
    )
    rows = h.query(
        "SELECT v, v__v_json, V__2, o.w, o.w__v_json, o.W__2, _dp_inserted_at IS NOT NULL, _dp_inserted_at__2, "
        "_DP_INSERTED_AT__3 FROM lake_dev.things WHERE id = 1"
    )
    assert rows == [(None, '"lower"', "UPPER", None, '"a"', "b", True, "x", "y")]


def test_a_key_naming_the_variant_column_keeps_it(h: Harness) -> None:
    """`{"v__v_json": "mine", "v": "text"}` stored "text": "mine" was lost."""
    ingest(h, [{"id": 0, "v": 1}])
    result = ingest(h, [{"id": 1, "v__v_json": "mine", "v": "text"}])
    assert h.query("SELECT v__v_json, v__v_json__2 FROM lake_dev.things WHERE id = 1") == [("mine", '"text"')]
    assert "v: value does not fit the table's INT64 (STRING vs INT64); stored in v__v_json__2" in notes(result)


def test_a_variant_column_typed_by_earlier_data_takes_what_fits_and_routes_the_rest(h: Harness) -> None:
    """An integer key `v__v_json` once made that column BIGINT: every later file with a string `v` was
    rejected by the warehouse ("JSON transform error")."""
    ingest(h, [{"id": 0, "v": 1, "v__v_json": 5}])
    result = ingest(h, [{"id": 1, "v": "text"}, {"id": 2, "v": {"an": "object"}}])
    assert h.columns("lake_dev", "things")["v__v_json"] == "BIGINT"
    rows = h.query("SELECT id, v, v__v_json, v__v_json__v_json FROM lake_dev.things ORDER BY id")
    assert rows == [(0, 1, 5, None), (1, None, None, '"text"'), (2, None, None, '{"an":"object"}')]
    assert "v__v_json: value does not fit the table's INT64" in notes(result)


@pytest.mark.parametrize("runs", [1, 2])
def test_an_integer_beyond_2_53_survives_a_float_arriving_in_its_column(h: Harness, runs: int) -> None:
    """The column became DOUBLE and the stored value, rows already in the table included, 9007199254740992.0."""
    if runs == 1:
        result = ingest(h, [{"id": 0, "k": BIG}, {"id": 1, "k": 0.5}])
    else:
        ingest(h, [{"id": 0, "k": BIG}])
        result = ingest(h, [{"id": 1, "k": 0.5}])
    assert h.columns("lake_dev", "things")["k"] == "BIGINT"
    assert h.query("SELECT id, k, k__v_json FROM lake_dev.things ORDER BY id") == [(0, BIG, None), (1, None, "0.5")]
    where = "new" if runs == 1 else "table's"
    assert f"k: value does not fit the {where} INT64" in notes(result)
    assert "stored in k__v_json" in notes(result) and not result.tables[0].columns_widened


def test_staging_workers_widen_only_as_the_batch_decides(
    h: Harness, monkeypatch: pytest.MonkeyPatch, staging_in_workers: list[int]
) -> None:
    """A staging worker cannot ask the warehouse: it widens `k` and `j` for the floats it meets; merging its
    schema, the batch asks, keeps `k` (the table holds 9007199254740993) and stages the worker's files
    again, the float going to `k__v_json`; `j` widens."""
    monkeypatch.setenv("INGESTOR_WORKERS", "2")
    monkeypatch.setenv("INGESTOR_COLUMNAR", "0")
    ingest(h, [{"id": 0, "k": BIG, "j": 1}])
    result = ingest(h, [{"id": 1, "k": 0.5, "j": 0.5}], [{"id": 2, "k": 7, "j": 2}])
    assert staging_in_workers == [2]
    assert result.tables[0].columns_widened == ["j INT64 -> FLOAT64"]
    rows = h.query("SELECT id, k, k__v_json, j FROM lake_dev.things ORDER BY id")
    assert rows == [(0, BIG, None, 1.0), (1, None, "0.5", 0.5), (2, 7, None, 2.0)]


def test_a_column_of_the_table_widens_when_it_holds_no_large_integer(h: Harness) -> None:
    ingest(h, [{"id": 0, "k": -(2**53)}, {"id": 1, "k": 5}])
    result = ingest(h, [{"id": 2, "k": 0.5}])
    assert result.tables[0].columns_widened == ["k INT64 -> FLOAT64"]
    assert h.query("SELECT k FROM lake_dev.things ORDER BY id") == [(-(2.0**53),), (5.0,), (0.5,)]


HAND_MADE = "u UBIGINT, hu HUGEINT, d DECIMAL(4,2), i INTEGER, m MAP(VARCHAR, INTEGER), t UUID"


def test_hand_made_columns_keep_their_type_and_take_only_what_they_hold_exactly(h: Harness) -> None:
    """MAP, DECIMAL(4,2) and INTEGER columns rejected files whose values did not fit; UBIGINT and HUGEINT
    columns were altered to DOUBLE; a DECIMAL(4,2) column rounded 0.125 to 0.13."""
    with duckdb.connect(str(h.database)) as db:
        db.execute("CREATE SCHEMA lake_dev")
        db.execute(f"CREATE TABLE lake_dev.things (id BIGINT, {HAND_MADE})")
        db.execute("INSERT INTO lake_dev.things (id, u) VALUES (-1, 18446744073709551615)")
    before = h.columns("lake_dev", "things")
    fitting = {"id": 0, "u": 2**64 - 1, "hu": -(2**63), "d": 1.25, "i": 7, "m": {"a": 1, "b": None}}
    unfit = {"id": 1, "u": 0.5, "hu": 1.5, "d": 0.125, "i": 2**40, "m": {"a": "x"}, "t": "not a uuid"}
    result = ingest(h, [fitting, unfit], [{"id": 2, "d": 100, "m": 5, "i": -7}])
    after = h.columns("lake_dev", "things")
    assert {k: after[k] for k in before} == before  # no column altered
    assert sorted(set(after) - set(before)) == sorted(
        [
            "_dp_inserted_at",
            "_source_file",
            "u__v_json",
            "hu__v_json",
            "d__v_json",
            "i__v_json",
            "m__v_json",
            "t__v_json",
        ]
    )
    rows = h.query("SELECT id, u, hu, d::VARCHAR, i, m, t FROM lake_dev.things ORDER BY id")
    assert rows == [
        (-1, 2**64 - 1, None, None, None, None, None),
        (0, 2**64 - 1, -(2**63), "1.25", 7, {"a": 1, "b": None}, None),
        (1, None, None, None, None, None, None),
        (2, None, None, None, -7, None, None),
    ]
    variants = h.query(
        "SELECT u__v_json, hu__v_json, d__v_json, i__v_json, m__v_json, t__v_json FROM lake_dev.things WHERE id > 0 "
        "ORDER BY id"
    )
    assert variants == [
        ("0.5", "1.5", "0.125", str(2**40), '{"a":"x"}', '"not a uuid"'),
        (None, None, "100", None, "5", None),
    ]
    assert "d: value does not fit the table's DECIMAL(4,2)" in notes(result)
    assert not result.tables[0].columns_widened


def test_suffixed_column_names_stay_within_300_characters(h: Harness) -> None:
    """Names were cut to 300 characters before `__2` or `__v_json` was appended (BigQuery allows 300)."""
    long = "k" * 320
    ingest(h, [{"id": 0, long: 1}])
    ingest(h, [{"id": 1, long: "text", long.upper(): 2}])
    columns = h.columns("lake_dev", "things")
    assert max(len(c) for c in columns) == 300
    rows = h.query(f'SELECT "{"k" * 300}", "{"k" * 292}__v_json", "{"K" * 297}__2" FROM lake_dev.things ORDER BY id')
    assert rows == [(1, None, None), (None, '"text"', 2)]
