"""The seed system's contract: its five Spotify tables, column by column and type by type, and every
column its dbt staging models read, on tables loaded from real payloads (fixtures: SOURCES.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ingestor.testing import Harness

FIXTURES = Path(__file__).parent / "fixtures"
SEED = json.loads((FIXTURES / "seed_spotify_schemas.json").read_text())["types"]
MODELS = json.loads((FIXTURES / "seed_downstream_columns.json").read_text())["models"]
# BigQuery types as DuckDB shows them.
DUCKDB = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "BOOL": "BOOLEAN",
    "DATE": "DATE",
    "JSON": "JSON",
    "TIMESTAMP": "TIMESTAMP WITH TIME ZONE",
}


def duckdb_type(column: dict[str, Any], quote: str = "") -> str:
    """The DuckDB type of a seed column (a RECORD is a STRUCT of its fields, their names quoted with `quote`)."""
    if column["bq_type"] == "RECORD":
        fields = (f"{quote}{f['name']}{quote} {duckdb_type(f, quote)}" for f in column["fields"])
        inner = "STRUCT(" + ", ".join(fields) + ")"
    else:
        inner = DUCKDB[column["bq_type"]]
    return inner + "[]" if column["mode"] == "REPEATED" else inner


def table_columns(h: Harness, dataset: str, table: str) -> dict[str, str]:
    # DuckDB quotes reserved field names
    return {name.lower(): kind.replace('"', "") for name, kind in h.columns(dataset, table).items()}


@pytest.mark.parametrize("data_type", sorted(SEED))
def test_the_seed_tables_have_exactly_its_columns_and_types(seed_loaded: Harness, data_type: str) -> None:
    seed = SEED[data_type]
    got = table_columns(seed_loaded, seed["dataset"].format(env="dev"), seed["table"])
    expected = {c["name"].lower(): duckdb_type(c) for c in seed["columns"]}
    expected |= {"raw_data": "JSON", "dp_inserted_at": DUCKDB["TIMESTAMP"], "source_file": "VARCHAR"}
    assert got == expected


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_column_a_staging_model_reads_exists(seed_loaded: Harness, model: str) -> None:
    spec = MODELS[model]
    got = table_columns(seed_loaded, spec["dataset"].format(env="dev"), spec["table"])
    missing = sorted(c for c in spec["columns_selected"] if c.lower() not in got)
    assert not missing, f"{model} reads columns {spec['table']} lacks: {missing}"


def test_transforms_album_type_and_album_type2(
    samples: dict[str, Any], load: Callable[..., Harness], name_for: Callable[..., str]
) -> None:
    items = samples["saved_tracks"][:1]
    album = items[0]["track"]["album"]
    album.update(album_type="compilation", type="album", release_date="1999-06")
    h = load({name_for("saved_tracks"): items})
    row = h.query(
        "SELECT albumType, albumType2, albumReleaseDate::VARCHAR, albumReleaseDatePrecision, "
        "json_array_length(albumAvailableMarkets), externalUrls.spotify "
        "FROM dp_lake_dev.lake_spotify__normalized_saved_tracks"
    )
    track = items[0]["track"]
    assert row == [
        (
            "compilation",
            "album",
            "1999-06-01",
            album["release_date_precision"],
            len(album["available_markets"]),
            track["external_urls"]["spotify"],
        )
    ]


def test_the_seeds_existing_tables_take_our_rows(
    tmp_path: Path, samples: dict[str, Any], name_for: Callable[..., str]
) -> None:
    """Tables created beforehand as the seed created them (REQUIRED columns NOT NULL, its types) are
    appended to: no file rejected, no column altered or added."""
    import duckdb

    from ingestor_spotify import plugin

    h = Harness(tmp_path, plugin)
    before = {}
    with duckdb.connect(str(h.database)) as db:
        db.execute("CREATE SCHEMA dp_lake_dev")
        for seed in SEED.values():
            columns = [*seed["columns"], *seed["metadata_columns"]]
            ddl = ", ".join(
                f'"{c["name"]}" {duckdb_type(c, chr(34))}' + (" NOT NULL" if c["mode"] == "REQUIRED" else "")
                for c in columns
            )
            db.execute(f"CREATE TABLE dp_lake_dev.{seed['table']} ({ddl})")
    for data_type, seed in SEED.items():
        before[data_type] = table_columns(h, "dp_lake_dev", seed["table"])
        h.land(name_for(data_type), samples[data_type])
    run = h.run("--service", "spotify", "--json")
    assert run.exit_code == 0, run.stderr
    assert {f["status"] for f in json.loads(run.stdout)["files"]} == {"loaded"}
    for data_type, seed in SEED.items():
        assert table_columns(h, "dp_lake_dev", seed["table"]) == before[data_type]
        assert h.query(f"SELECT count(*) FROM dp_lake_dev.{seed['table']}")[0][0] > 0
