"""A table the seed system created and filled is appended to, not fought, on the BigQuery API server:
its column types win wherever a value converts without loss; no file rejected, no column altered."""

from __future__ import annotations

from typing import Any

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
