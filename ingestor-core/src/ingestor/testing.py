"""Helpers for testing plugins against the real engine, the embedded way (a folder + DuckDB).

    from ingestor.testing import Harness

    def test_my_type(tmp_path):
        h = Harness(tmp_path, MyPlugin())
        h.land("myservice/landing/2025_01_01_00_00_myservice_things.jsonl", [{"id": 1}])
        result = h.run("--service", "myservice")
        assert result.exit_code == 0
        assert h.query("SELECT count(*) FROM my_dataset_dev.things") == [(1,)]

Installed plugins are never autoloaded here: only the plugin objects given are registered.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pluggy
from typer.testing import CliRunner, Result

from ingestor.plugins import get_plugin_manager, use_plugin_manager


class Harness:
    """A landing folder, a DuckDB file and a plugin manager holding exactly the given plugins."""

    def __init__(self, root: Path, *plugins: object, env: str = "dev") -> None:
        self.root = root
        self.env = env
        self.landing = root / f"ela-dp-{env}"
        self.database = root / f"warehouse_{env}.duckdb"
        self.pm: pluggy.PluginManager = get_plugin_manager(load_entry_points=False)
        for plugin in plugins:
            self.pm.register(plugin)

    def land(self, name: str, records: Iterable[dict[str, Any]] | str | bytes) -> Path:
        """Write a landing file: records as NDJSON, or raw text/bytes as given; a `.gz` name is
        gzip-compressed unless the bytes already are."""
        path = self.landing / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(records, str):
            data = records.encode()
        elif isinstance(records, bytes):
            data = records
        else:
            data = b"".join(orjson.dumps(r) + b"\n" for r in records)
        already_gzipped = data[:2] == b"\x1f\x8b"
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") and not already_gzipped else data)
        return path

    def run(self, *args: str) -> Result:
        """`ingestor run` on this harness's folder and database (plus `args`)."""
        return self.cli("run", "--env", self.env, "--data-dir", str(self.root), *args)

    def fetch(self, *args: str) -> Result:
        """`ingestor fetch` into this harness's landing folder (plus `args`)."""
        return self.cli("fetch", "--env", self.env, "--data-dir", str(self.root), *args)

    def records(self, name: str) -> list[dict[str, Any]]:
        """The records of an NDJSON file of the landing zone (e.g. one a fetch wrote)."""
        return [orjson.loads(line) for line in (self.landing / name).read_bytes().splitlines() if line.strip()]

    def cli(self, *args: str) -> Result:
        """Any `ingestor` command with this harness's plugins."""
        from ingestor.cli import app

        with use_plugin_manager(self.pm):
            return CliRunner().invoke(app, list(args))

    def files(self, folder: str = "") -> list[str]:
        """Files under the landing zone (or a folder of it), relative, sorted."""
        base = self.landing / folder
        return sorted(p.relative_to(self.landing).as_posix() for p in base.rglob("*") if p.is_file())

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run SQL on the warehouse file (read-only, UTC)."""
        with duckdb.connect(str(self.database), read_only=True) as con:
            con.execute("SET TimeZone = 'UTC'")
            return con.execute(sql, params or []).fetchall()
