"""The demo landing zone: deterministic, complete, realistic enough to ingest cleanly."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from ingestor import staging
from ingestor.catalog import Catalog
from ingestor.testing import Harness
from ingestor_garmin import plugin
from ingestor_garmin.types import DATA_TYPES


def test_same_seed_same_bytes_other_seed_other_data() -> None:
    first = plugin.services()[0].load_demo()(21, 7)
    assert first == plugin.services()[0].load_demo()(21, 7)
    other = plugin.services()[0].load_demo()(21, 8)
    assert other != first
    assert plugin.services()[0].load_demo()(3, 7) == plugin.services()[0].load_demo()(3, 7)


def test_default_demo_covers_every_type_in_the_fetchers_naming_and_stays_small() -> None:
    files = plugin.services()[0].load_demo()(21, 7)
    catalog = Catalog(list(plugin.services()[0].data_types))
    covered = set()
    for name, content in files.items():
        assert name.startswith("garmin/landing/")
        match = catalog.match("garmin", name.rsplit("/", 1)[-1])
        assert match is not None, name
        covered.add(match.data_type.name)
        text = gzip.decompress(content) if name.endswith(".gz") else content
        lines = text.splitlines()
        assert lines and all(orjson.loads(line)["data_type"] == match.data_type.name for line in lines), name
    assert covered == {dt.name for dt in DATA_TYPES}
    assert any("_HISTORICAL_garmin_" in name for name in files)
    assert sum(len(c) for c in files.values()) < 5_000_000


def test_one_day_demo_still_covers_every_type() -> None:
    files = plugin.services()[0].load_demo()(1, 1)
    catalog = Catalog(list(plugin.services()[0].data_types))
    found = {m.data_type.name for n in files if (m := catalog.match("garmin", n.rsplit("/", 1)[-1]))}
    assert found == {dt.name for dt in DATA_TYPES}


def test_demo_landing_zone_ingests_cleanly(tmp_path: Path) -> None:
    h = Harness(tmp_path, plugin)
    written = h.cli("demo", "--service", "garmin", "--env", "dev", "--data-dir", str(tmp_path))
    assert written.exit_code == 0, written.output
    landed = h.files("garmin/landing")
    assert len(landed) == len(plugin.services()[0].load_demo()(21, 7))

    result = h.run("--service", "garmin", "--json")

    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert report["totals"]["rejected"] == 0 and report["totals"]["loaded"] == len(landed)
    assert h.files("garmin/landing") == [] and h.files("garmin/rejected") == []
    for dt in DATA_TYPES:
        not_null = " AND ".join(f'"{k}" IS NOT NULL' for k in dt.primary_key)
        counts = h.query(
            f"SELECT count(*), count(*) FILTER (WHERE {not_null}) FROM dp_normalized_dev.{dt.table_for('dev')}"
        )
        assert counts[0][0] > 0 and counts[0][0] == counts[0][1], dt.name
    # Daily metrics have one row per day; backfill and daily files do not overlap.
    assert h.query("SELECT count(*), count(DISTINCT date) FROM dp_normalized_dev.normalized_garmin__sleep") == [
        (21, 21)
    ]


def test_demo_stages_the_same_in_worker_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {n: c for n, c in plugin.services()[0].load_demo()(6, 3).items() if "training_status" in n}
    assert len(files) > 1
    rows = []
    in_workers: list[int] = []
    stage_in_workers = staging._stage_in_workers
    monkeypatch.setattr(staging, "PARALLEL_MIN_BYTES", 0)  # these small files too
    monkeypatch.setenv("INGESTOR_COLUMNAR", "0")  # the row path, which workers run (the columnar path would take them)
    monkeypatch.setattr(staging, "_stage_in_workers", lambda b, t, w: in_workers.append(w) or stage_in_workers(b, t, w))
    for workers in ("1", "2"):
        monkeypatch.setenv("INGESTOR_WORKERS", workers)
        h = Harness(tmp_path / workers, plugin)
        for name, content in files.items():
            h.land(name, content)
        result = h.run("--service", "garmin")
        assert result.exit_code == 0, result.output
        rows.append(
            h.query(
                "SELECT date, s.key, s.value.trainingStatus FROM dp_normalized_dev.normalized_garmin__training_status,"
                " unnest(mostRecentTrainingStatus.latestTrainingStatusData) AS u(s) ORDER BY date"
            )
        )
    assert rows[0] == rows[1] and len(rows[0]) == 6
    assert in_workers == [2]  # the second run staged in worker processes
