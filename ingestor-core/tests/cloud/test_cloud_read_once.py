"""Reading on GCS: each landing object is downloaded with one request per run (ranged requests of 8 MiB: one for a
file below that), the first of a batch included, and its checksum is the md5 the listing gives. A file found
loaded already is not downloaded at all. The real client's downloads are counted."""

from __future__ import annotations

import base64
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from .conftest import CloudHarness

pytestmark = pytest.mark.timeout(300)
NAMES = [f"acme/landing/2025_01_0{day}_00_00_acme_events.jsonl" for day in (1, 2, 3, 4)]


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Download requests of landing objects, by object name."""
    from google.cloud.storage import Blob

    counted: Counter[str] = Counter()
    original = Blob.download_as_bytes

    def download(self: Blob, *args: Any, **kwargs: Any) -> Any:
        if "/landing/" in self.name:
            counted[self.name] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Blob, "download_as_bytes", download)
    return counted


@pytest.mark.parametrize("warehouse", ["duckdb", "bigquery"])
def test_each_object_is_downloaded_once_and_not_at_all_once_loaded(
    cloud: CloudHarness, downloads: Counter[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warehouse: str
) -> None:
    """On DuckDB the columnar path tries each file: the first is handed back (its columns are new) and staged row by
    row from that same download (before: downloaded twice, and each download ended with a request past the end)."""
    monkeypatch.setenv("INGESTOR_COLUMNAR_MIN_BYTES", "0")
    where = ["--warehouse", f"duckdb:///{tmp_path / 'w.duckdb'}"] if warehouse == "duckdb" else []
    for day, name in enumerate(NAMES, 1):
        cloud.land(name, [{"id": day * 10 + i, "v": "x" * i} for i in range(5)])
    result = cloud.result(cloud.run(*where))
    assert [(f["path"], f["status"]) for f in result["files"]] == [(n, "loaded") for n in NAMES]
    assert downloads == dict.fromkeys(NAMES, 1)
    if warehouse == "duckdb":
        assert result["tables"][0]["columnar_files"] == len(NAMES) - 1
    else:
        ledger = cloud.query(f"SELECT source_name, checksum FROM {cloud.dataset}._ingestor_ledger")
        md5 = {b.name: "md5:" + base64.b64decode(b.md5_hash).hex() for b in cloud.storage.list_blobs(cloud.bucket)}
        assert {r["source_name"]: r["checksum"] for r in ledger} == {
            n: md5[n.replace("landing", "archive")] for n in NAMES
        }
    # a crash between the load and the moves: the files are in landing again, found loaded, never downloaded
    for name in NAMES:
        cloud.bucket.copy_blob(cloud.bucket.blob(name.replace("/landing/", "/archive/")), cloud.bucket, name)
        cloud.bucket.delete_blob(name.replace("/landing/", "/archive/"))
    downloads.clear()
    again = cloud.result(cloud.run(*where))
    assert [f["status"] for f in again["files"]] == ["already_loaded"] * len(NAMES)
    assert downloads == {}
