"""Every data type of the three shipped plugins, from their real-shaped sample files, through the cloud
path (GCS landing, BigQuery load jobs) on the local API servers, and compared with the embedded path.

The sample files are built by each plugin's own test helpers (from the real API payloads in their
`tests/fixtures/`, see the SOURCES.md there), so an emulator gap or a cloud-only bug shows up here, in
CI, and not in production (e.g. a nested field named like a SQL keyword: Garmin's `...Contributors[].group`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ingestor.testing import Harness

from .conftest import ROOT, CloudHarness

pytestmark = pytest.mark.timeout(600)

Files = dict[str, list[dict[str, Any]]]


def _helpers(plugin: str) -> ModuleType:
    """A plugin's tests/conftest.py, loaded for its sample builders."""
    spec = importlib.util.spec_from_file_location(f"_{plugin}_samples", ROOT / plugin / "tests" / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sample_files() -> Files:
    """Landing object name -> records, one file per data type of each shipped plugin."""
    from ingestor_garmin.types import DATA_TYPES

    garmin, spotify, chess = (_helpers(p) for p in ("ingestor-garmin", "ingestor-spotify", "ingestor-chess"))
    files: Files = {
        f"garmin/landing/2025_07_08_06_15_garmin_{dt.name}.jsonl": garmin.build_records(dt.name) for dt in DATA_TYPES
    }
    files |= {spotify.file_name(name): lines for name, lines in spotify.sample_lines().items()}
    files |= {chess.landing_name("fabiano_caruana", name): lines for name, lines in chess.build_sample_lines().items()}
    return files


def _plugins() -> list[object]:
    import ingestor_chess.plugin
    import ingestor_garmin.plugin
    import ingestor_spotify.plugin

    return [ingestor_garmin.plugin, ingestor_spotify.plugin, ingestor_chess.plugin]


def test_every_shipped_type_loads_through_gcs_and_bigquery_as_on_duckdb(
    storage_client: Any, bq_client: Any, tmp_path: Path
) -> None:
    files = _sample_files()
    assert len(files) == 29 + 10 + 5  # every type of the three plugins

    cloud = CloudHarness(storage_client, bq_client, *_plugins(), service="garmin,spotify,chess")
    for name, records in files.items():
        cloud.land(name, records)
    run = cloud.run()
    result = cloud.result(run)
    statuses = {f["path"]: (f["status"], f["reason"]) for f in result["files"]}
    assert statuses == {name: ("loaded", None) for name in files}, run.stderr[-3000:]
    assert run.exit_code == 0

    local = Harness(tmp_path, *_plugins(), env=cloud.env)
    for name, records in files.items():
        local.land(name, records)
    assert local.run("--service", "garmin,spotify,chess").exit_code == 0

    tables = {tuple(t["table"].split(".")): t["rows"] for t in result["tables"]}
    assert len(tables) == len(files)
    for (dataset, table), rows in tables.items():
        assert cloud.query(f"SELECT count(*) AS n FROM `{dataset}.{table}`") == [{"n": rows}], table
        cloud_columns = [f.name for f in cloud.bq.get_table(f"{dataset}.{table}").schema]
        assert sorted(cloud_columns) == sorted(local.columns(dataset, table)), table
        assert local.query(f'SELECT count(*) FROM "{dataset}"."{table}"') == [(rows,)], table
    assert cloud.files("garmin/landing") == cloud.files("spotify/landing") == cloud.files("chess/landing") == []
