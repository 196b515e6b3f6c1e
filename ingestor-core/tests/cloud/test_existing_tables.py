"""A table the seed system created and filled is appended to, not fought, on the BigQuery API server:
its column types win wherever a value converts without loss; no file rejected, no column altered."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from google.cloud import bigquery

from ingestor.catalog import DataType
from ingestor.schema import Declared, Kind
from ingestor.testing import Declarations

from .conftest import PROJECT, CloudHarness

STRING, REQUIRED = "STRING", "REQUIRED"
SEED_SCHEMA = [
    bigquery.SchemaField("_dp_inserted_at", STRING),
    bigquery.SchemaField("_source_file", STRING),
    bigquery.SchemaField("data_type", STRING),
    bigquery.SchemaField("id", "INTEGER", mode=REQUIRED),
    bigquery.SchemaField("score", "FLOAT"),
    bigquery.SchemaField("label", STRING),
    bigquery.SchemaField("meta", STRING),
    bigquery.SchemaField("day", STRING),
    bigquery.SchemaField("played", "TIMESTAMP"),
    bigquery.SchemaField("dive", "RECORD", fields=[bigquery.SchemaField("gases", STRING, mode="REPEATED")]),
]


_DIVE = Declared("dive", Kind.STRUCT, fields=(Declared("gases", Kind.STRING, repeated=True),))
SEEDED = Declarations(
    DataType(
        service="acme",
        name="things",
        dataset="acme_{env}",
        table="things",
        schema_hints={"played": Kind.TIMESTAMP},
        columns=(_DIVE, Declared("genres", Kind.JSON)),
        column_defaults={"data_type": "things"},
        source_file_value="name",
    )
)


def schema_of(h: CloudHarness) -> list[tuple[str, str, str]]:
    table = h.bq.get_table(f"{PROJECT}.{h.dataset}.things")
    return [(f.name, f.field_type, f.mode) for f in table.schema]


def test_a_seed_table_takes_our_rows_on_bigquery(storage_client: Any, bq_client: Any) -> None:
    h = CloudHarness(storage_client, bq_client, SEEDED)
    bq_client.create_dataset(h.dataset)
    bq_client.create_table(bigquery.Table(f"{PROJECT}.{h.dataset}.things", schema=SEED_SCHEMA))
    h.query(f"INSERT INTO `{PROJECT}.{h.dataset}.things` (id, _dp_inserted_at) VALUES (0, '2025-01-01T00:00:00')")
    before = schema_of(h)
    h.land(
        "acme/landing/sub/2025_01_02_00_00_acme_things.jsonl",
        [
            {"id": 1, "score": 3, "label": 5, "meta": {"a": 1}, "day": "2025-01-02", "played": "2025-01-02T10:00:00Z"},
            {"id": 2, "score": 2.5, "label": True, "dive": {"gases": []}},
        ],
    )
    run = h.run()
    assert run.exit_code == 0, run.output
    result = h.result(run)
    assert [f["status"] for f in result["files"]] == ["loaded"]
    after = schema_of(h)
    assert after[: len(before)] == before  # no column altered (REQUIRED kept)
    assert [name for name, *_ in after[len(before) :]] == ["genres"]  # a declared column the table lacked
    rows = h.query(
        f"SELECT id, score, label, meta, day, data_type, _source_file, _dp_inserted_at "
        f"FROM `{PROJECT}.{h.dataset}.things` ORDER BY id"
    )
    assert [r["id"] for r in rows] == [0, 1, 2]
    assert (rows[1]["score"], rows[1]["label"], rows[1]["meta"], rows[1]["day"]) == (3.0, "5", '{"a":1}', "2025-01-02")
    assert (rows[2]["label"], rows[2]["data_type"]) == ("true", "things")
    assert rows[1]["_source_file"] == "2025_01_02_00_00_acme_things.jsonl"
    assert "+" not in rows[1]["_dp_inserted_at"] and rows[1]["_dp_inserted_at"][:10] == result["started_at"][:10]
    # A second delivery of a file with the same base name and other rows, in another folder, is appended.
    h.land("acme/landing/2025_01_02_00_00_acme_things.jsonl", [{"id": 3}])
    again = h.run()
    assert again.exit_code == 0, again.output
    assert [r["id"] for r in h.query(f"SELECT id FROM `{PROJECT}.{h.dataset}.things` ORDER BY id")] == [0, 1, 2, 3]


BIG = 9007199254740993  # 2^53 + 1: a FLOAT64 makes it 9007199254740992.0


def _json(text: str | None) -> Any:
    """A JSON column's value read with TO_JSON_STRING (NULL: None; the emulator and BigQuery spell numbers
    and NULL differently)."""
    return None if text in (None, "null") else orjson.loads(text)


def _loaded(h: CloudHarness, name: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    h.land(name, records)
    run = h.run()
    assert run.exit_code == 0, run.output
    result = h.result(run)
    assert [f["status"] for f in result["files"]] == ["loaded"], result["files"]
    return result


def test_no_value_is_lost_to_a_widening_or_a_spelling_on_bigquery(storage_client: Any, bq_client: Any) -> None:
    """On the BigQuery API server: before a column of the table widens to FLOAT64, the warehouse is
    asked (one MIN/MAX query) whether it holds integers beyond 2^53; it does for `k` and the array `l` (they
    stay INT64, the floats go to their variants), not for `j` (it widens). Two spellings of `v` routed to
    its variant keep both values; a key naming the variant column keeps it."""
    h = CloudHarness(storage_client, bq_client, SEEDED)
    _loaded(h, "acme/landing/2025_01_01_00_00_acme_things.jsonl", [{"id": 1, "k": BIG, "l": [-BIG], "j": 5, "v": 1}])
    second = [
        {"id": 2, "k": 0.5, "l": [0.5], "j": 0.5, "v": "lower", "V": "UPPER"},
        {"id": 3, "v__v_json": "mine", "v": "text"},
    ]
    result = _loaded(h, "acme/landing/2025_01_02_00_00_acme_things.jsonl", second)
    types = {name: (kind, mode) for name, kind, mode in schema_of(h)}
    assert types["k"] in {("INTEGER", "NULLABLE"), ("INT64", "NULLABLE")}
    assert types["l"] in {("INTEGER", "REPEATED"), ("INT64", "REPEATED")}
    assert types["j"][0] in ("FLOAT", "FLOAT64")
    [table] = result["tables"]
    assert table["columns_widened"] == ["j INT64 -> FLOAT64"]
    assert any(n.startswith("k: value does not fit the table's INT64 (FLOAT64 would change") for n in table["notes"])
    rows = h.query(
        f"SELECT id, k, TO_JSON_STRING(k__v_json) AS kv, l, TO_JSON_STRING(l__v_json) AS lv, j, "
        f"TO_JSON_STRING(v__v_json) AS vv, V__2, TO_JSON_STRING(v__v_json__2) AS vv2 "
        f"FROM `{PROJECT}.{h.dataset}.things` ORDER BY id"
    )
    assert [(r["id"], r["k"], _json(r["kv"]), r["l"], _json(r["lv"]), r["j"]) for r in rows] == [
        (1, BIG, None, [-BIG], None, 5.0),
        (2, None, 0.5, [], [0.5], 0.5),
        (3, None, None, [], None, None),
    ]
    assert [(_json(r["vv"]), r["V__2"], _json(r["vv2"])) for r in rows[1:]] == [
        ("lower", "UPPER", None),
        ("mine", None, "text"),
    ]


def test_hand_made_bigquery_columns_take_only_what_they_hold_exactly(storage_client: Any, bq_client: Any) -> None:
    """A NUMERIC column was read as FLOAT64 (its staging column too, which BigQuery cannot insert into NUMERIC)
    and a DATETIME one as STRING, taking any value: now they keep their type and take only what they hold
    exactly (NUMERIC: 9 decimals, 29 integer digits; DATETIME: nothing the engine can check); the rest goes
    to `<name>__v_json`. (The emulator keeps no NUMERIC precision and has no BIGNUMERIC.)"""
    h = CloudHarness(storage_client, bq_client, SEEDED)
    bq_client.create_dataset(h.dataset)
    schema = [
        bigquery.SchemaField(name, kind) for name, kind in (("id", "INTEGER"), ("n", "NUMERIC"), ("w", "DATETIME"))
    ]
    bq_client.create_table(bigquery.Table(f"{PROJECT}.{h.dataset}.things", schema=schema))
    before = schema_of(h)
    records = [{"id": 1, "n": 12.5, "w": "2025-01-01T00:00:00"}, {"id": 2, "n": 0.1234567891}, {"id": 3, "n": 1e30}]
    result = _loaded(h, "acme/landing/2025_01_01_00_00_acme_things.jsonl", records)
    assert schema_of(h)[: len(before)] == before
    rows = h.query(
        "SELECT id, n, w, TO_JSON_STRING(n__v_json) AS nv, TO_JSON_STRING(w__v_json) AS wv "
        f"FROM `{PROJECT}.{h.dataset}.things` ORDER BY id"
    )
    assert [(r["id"], r["n"], r["w"], _json(r["nv"]), _json(r["wv"])) for r in rows] == [
        (1, Decimal("12.5"), None, None, "2025-01-01T00:00:00"),
        (2, None, None, 0.1234567891, None),
        (3, None, None, 1e30, None),
    ]
    assert "n: value does not fit the table's NUMERIC" in " ".join(result["tables"][0]["notes"])
