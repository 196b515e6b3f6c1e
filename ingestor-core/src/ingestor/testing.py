"""Testing plugins against the real engine, the embedded way (a folder + DuckDB).

    from ingestor.testing import Harness

    def test_my_type(tmp_path):
        h = Harness(tmp_path, my_plugin)
        h.land("myservice/landing/2025_01_01_00_00_myservice_things.jsonl", [{"id": 1}])
        result = h.ingest("--service", "myservice")
        assert result.success
        assert h.query("SELECT count(*) FROM my_dataset_dev.things") == [(1,)]

Hermetic: installed plugins are never autoloaded (only the plugin objects given are registered,
and any problem with them is an error); the landing folder and the DuckDB file are the harness's
own, whatever the environment says: the variables that say what a run loads and where (`Settings`' own:
service, landing, warehouse, env, log, task...) and `.env` are ignored while a command runs (pass `env=` to
set some on purpose). The tuning groups' variables (`INGESTOR_COLUMNAR`, `INGESTOR_WORKERS`, `INGESTOR_HTTP_*`,
the emulator hosts...) pass through, so a test may set them with `monkeypatch.setenv`. The pytest plugin
(`ingestor.pytest_plugin`) gives fixtures, and `ingestor.conformance` a test suite for a whole plugin.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Mapping
from contextlib import chdir
from pathlib import Path
from typing import Any

import duckdb
import orjson
from pydantic import AliasChoices
from typer.testing import CliRunner, Result

from ingestor.catalog import DataType
from ingestor.hookspecs import hookimpl
from ingestor.plugins import Plugins, load_plugins, use_plugins
from ingestor.result import IngestResult
from ingestor.service import Service
from ingestor.settings import Settings


def _run_variables() -> frozenset[str]:
    """What configures a run from the environment (every variable `Settings` reads, and the
    plugin loader's): a harness hides them, so its own folder and warehouse win."""
    names = {"INGESTOR_LOAD_PLUGINS", "INGESTOR_STRICT_PLUGINS", "INGESTOR_STAGING_BUCKET"}
    for field_name, info in Settings.model_fields.items():
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [f"INGESTOR_{field_name}"]
        names.update(c.upper() for c in choices if isinstance(c, str) and c != field_name)
    return frozenset(names)


RUN_VARIABLES = _run_variables()


class Declarations:
    """A plugin of nothing but data types, for tests: `Harness(tmp_path, Declarations(DataType(...), ...))`.
    Its `services()` gives one `Service` per service the data types name."""

    def __init__(self, *data_types: DataType) -> None:
        self.data_types = data_types
        """The data types given."""

    @hookimpl
    def services(self) -> list[Service]:
        """One `Service` per service the data types name."""
        names = dict.fromkeys(dt.service for dt in self.data_types)
        return [Service(data_types=tuple(dt for dt in self.data_types if dt.service == name)) for name in names]


class Harness:
    """A landing folder, a DuckDB file and exactly the given plugins."""

    def __init__(self, root: Path, *plugins: object, env: str = "dev") -> None:
        self.root = Path(root)
        """The harness's folder (commands run in it)."""
        self.env = env
        """The environment its commands run in."""
        self.landing = self.root / f"ela-dp-{env}"
        """The landing folder, `{root}/ela-dp-{env}`."""
        self.database = self.root / f"warehouse_{env}.duckdb"
        """The DuckDB file, `{root}/warehouse_{env}.duckdb`."""
        self.plugins: Plugins = load_plugins(plugins, entry_points=False, strict=True)
        """The plugins given, loaded strictly (any problem raises)."""

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

    def run(self, *args: str, env: Mapping[str, str] | None = None) -> Result:
        """`ingestor run` on this harness's folder and database (plus `args`)."""
        return self.cli("run", *self._where(), *args, env=env)

    def ingest(self, *args: str, env: Mapping[str, str] | None = None) -> IngestResult:
        """`ingestor run --json` (plus `args`), parsed; raises if it printed no result."""
        run = self.run(*args, "--json", env=env)
        if not run.stdout.strip():
            raise AssertionError(f"ingestor run printed no result (exit {run.exit_code}): {run.stderr}")
        return IngestResult.model_validate_json(run.stdout)

    def fetch(self, *args: str, env: Mapping[str, str] | None = None) -> Result:
        """`ingestor fetch` into this harness's landing folder (plus `args`)."""
        return self.cli("fetch", "--env", self.env, "--landing", self.landing.as_uri(), *args, env=env)

    def _where(self) -> tuple[str, ...]:
        return ("--env", self.env, "--landing", self.landing.as_uri(), "--warehouse", f"duckdb://{self.database}")

    def records(self, name: str) -> list[dict[str, Any]]:
        """The records of an NDJSON file of the landing zone (e.g. one a fetch wrote)."""
        return [orjson.loads(line) for line in (self.landing / name).read_bytes().splitlines() if line.strip()]

    def cli(self, *args: str, env: Mapping[str, str] | None = None) -> Result:
        """Any `ingestor` command with this harness's plugins, in its folder (so no `.env` is
        read), with the run's environment variables hidden except those in `env`."""
        from ingestor.cli import app

        hidden: dict[str, str | None] = dict.fromkeys(RUN_VARIABLES)  # unset while the command runs
        self.root.mkdir(parents=True, exist_ok=True)
        with use_plugins(self.plugins), chdir(self.root):
            return CliRunner().invoke(app, list(args), env={**hidden, **(env or {})})

    def files(self, folder: str = "") -> list[str]:
        """Object names under the landing zone (or a folder of it), e.g. `svc/archive/x.jsonl`, sorted."""
        base = self.landing / folder
        return sorted(p.relative_to(self.landing).as_posix() for p in base.rglob("*") if p.is_file())

    def columns(self, dataset: str, table: str) -> dict[str, str]:
        """A table's columns and their DuckDB types, in the table's order."""
        rows = self.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [dataset, table],
        )
        return dict(rows)

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run SQL on the warehouse file (read-only, UTC)."""
        with duckdb.connect(str(self.database), read_only=True) as con:
            con.execute("SET TimeZone = 'UTC'")
            return con.execute(sql, params or []).fetchall()
