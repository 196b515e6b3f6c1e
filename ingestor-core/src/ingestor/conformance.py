"""A conformance suite a plugin runs with one import:

    from ingestor.conformance import PluginConformance
    from ingestor_strava import plugin


    class TestStrava(PluginConformance):
        plugin = plugin

pytest then checks, against the real engine (a folder and DuckDB): the plugin loads with no
problem and declares at least one service; its fetcher, settings and demo references resolve
(imported, never called); every data type's conventional file name (`..._{service}_{type}`) is
its own, and no demo or sample file name is claimed by two types alike; every data type has a
demo or sample file; each primary key column is declared; the demo (and the samples) load
cleanly, each type's rows in its table with its primary key columns and its date column
(`date_column`, holding dates) among the table's, its latest view by key holding a row per key, and
a second run loads nothing again; each demo or sample file of a type with a `date_group` has a date
in it (a group that is not one of the type's file patterns fails the first check: the data type is
invalid).

`samples` may name a folder laid out like a landing zone (`{service}/landing/...`) with files
for types the demo does not cover.

`FetcherConformance` checks a fetcher against recorded responses: the subclass's `recorded_api`
fixture serves them (e.g. with pytest-httpserver) and returns the environment variables that
point the fetcher there. A first fetch, of declared data types only, writes files that load
cleanly; a second one, from the bookmarks, writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ingestor.catalog import AmbiguousFile, split_extension
from ingestor.days import day_of
from ingestor.plugins import Plugins, load_plugins
from ingestor.result import FileStatus
from ingestor.run.latest import SUFFIX, key_problems
from ingestor.testing import Harness
from ingestor.warehouse.duckdb import DuckDBWarehouse


class PluginConformance:
    """Subclass it (name starting with `Test`) and set `plugin` to the plugin module or object."""

    plugin: ClassVar[Any]
    """The plugin module or object under test."""
    samples: ClassVar[Path | None] = None
    """A folder laid out like a landing zone (`{service}/landing/...`) with files for types the demo lacks."""
    demo_days: ClassVar[int] = 3
    """The days of demo data written."""
    demo_seed: ClassVar[int] = 7
    """The demo's seed."""

    @pytest.fixture
    def loaded(self) -> Plugins:
        """The plugin, loaded strictly."""
        return load_plugins([self.plugin], entry_points=False, strict=True)

    @pytest.fixture
    def landing_files(self, loaded: Plugins) -> dict[str, bytes]:
        """Every demo and sample file, by object name."""
        files: dict[str, bytes] = {}
        for service in loaded.services.values():
            demo = service.load_demo()
            files.update(demo(self.demo_days, self.demo_seed) if demo else {})
        if self.samples is not None:
            files.update({p.relative_to(self.samples).as_posix(): p.read_bytes() for p in _files(self.samples)})
        return files

    def test_the_plugin_loads_and_declares_services(self, loaded: Plugins) -> None:
        """The plugin loads with no problem (strictly: any problem fails) and declares a service."""
        assert loaded.services, "the plugin declares no service"
        assert not loaded.problems

    def test_every_reference_resolves(self, loaded: Plugins) -> None:
        """Each service's fetcher, settings and demo (`"module:name"`) import and name what they should (a
        callable, a pydantic-settings class); none is called."""
        problems = [problem for service in loaded.services.values() for problem in service.unresolved()]
        assert not problems, "\n".join(problems)

    def test_each_data_type_owns_its_conventional_file_name(self, loaded: Plugins) -> None:
        """A file named `..._{service}_{type}.jsonl` is of that type, where the type's patterns take it."""
        for dt in loaded.catalog.types():
            name = f"2025_01_01_00_00_00_{dt.service}_{dt.name}.jsonl"
            if dt.match(name.removesuffix(".jsonl")) is not None:  # the default pattern (or one like it)
                found = loaded.catalog.match(dt.service, name)
                assert found is not None and found.data_type == dt, f"{name} is taken by another data type"

    def test_no_file_is_claimed_by_two_types_alike(self, loaded: Plugins, landing_files: dict[str, bytes]) -> None:
        """Every demo and sample file has a `.jsonl`/`.jsonl.gz` name that exactly one data type takes."""
        for name in landing_files:
            service, base = name.split("/", 1)[0], name.rsplit("/", 1)[-1]
            assert split_extension(base) is not None, f"{name}: not a .jsonl or .jsonl.gz name"
            try:
                found = loaded.catalog.match(service, base)
            except AmbiguousFile as error:
                raise AssertionError(f"{name}: {error}") from None
            assert found is not None, f"{name}: no data type matches it"

    def test_every_data_type_has_a_demo_or_sample_file(self, loaded: Plugins, landing_files: dict[str, bytes]) -> None:
        """Each data type is exercised by at least one demo or sample file."""
        covered = {m.data_type.key for m in _matches(loaded, landing_files)}
        missing = [dt.key for dt in loaded.catalog.types() if dt.key not in covered]
        assert not missing, f"no demo or sample file for {', '.join(missing)}"

    def test_each_date_group_dates_its_files(self, loaded: Plugins, landing_files: dict[str, bytes]) -> None:
        """Every demo and sample file of a type that takes its records' date from a file-name group has a date
        there (`YYYY_MM_DD`, `YYYY-MM-DD` or `YYYYMMDD` at its start)."""
        for name in landing_files:
            found = loaded.catalog.match(name.split("/", 1)[0], name.rsplit("/", 1)[-1])
            group = found.data_type.date_group if found else None
            assert not found or not group or day_of(found.attributes.get(group)), (
                f"{name}: no date in its group {group!r}"
            )

    def test_every_primary_key_column_is_declared(self, loaded: Plugins) -> None:
        """Each primary key column is among its data type's `columns`, `schema_hints` or `column_defaults`
        (a table has it, so its latest view by key can be made; see `ingestor.run.latest`)."""
        problems = [problem for dt in loaded.catalog.types() for problem in key_problems(dt)]
        assert not problems, "\n".join(problems)

    def test_the_demo_and_samples_load_cleanly(self, tmp_path: Path, landing_files: dict[str, bytes]) -> None:
        """Every demo and sample file loads (none rejected or failed), each type's rows in its table, whose
        columns include the type's primary key and date column (holding dates), with a latest view holding a row
        per key; a second run finds nothing to do."""
        h = Harness(tmp_path, self.plugin)
        for name, content in landing_files.items():
            h.land(name, content)
        services = ",".join(sorted({name.split("/", 1)[0] for name in landing_files}))
        result = h.ingest("--service", services)
        bad = [f"{f.path}: {f.status.value} ({f.reason})" for f in result.files if f.status in _BAD]
        assert not bad, "\n".join(bad)
        loaded_types = {(f.service, f.data_type) for f in result.files if f.status is FileStatus.LOADED}
        for table in result.tables:
            if (table.service, table.data_type) in loaded_types:
                count = f"SELECT count(*) FROM {table.table}"  # noqa: S608 (validated identifiers)
                assert h.query(count)[0][0] > 0, f"{table.table} is empty"
                keys = h.plugins.catalog.get(table.service, table.data_type)
                columns = h.columns(*table.table.split("."))
                missing = [key for key in keys.primary_key if key.split(".")[0] not in columns] if keys else []
                where = f"{table.service}.{table.data_type}"
                assert not missing, f"primary key column(s) {', '.join(missing)} of {where} not in {table.table}"
                if keys and keys.primary_key:
                    _assert_latest(h, table.table, keys.primary_key, where)
                dated = keys.date_column if keys else None
                if dated is not None:
                    assert dated in columns, f"date column {dated} of {where} not in {table.table}"
                    assert _has_dates(h, table.table, dated), f"date column {dated} of {where} holds no date"
        again = h.ingest("--service", services)
        assert again.success and not again.files, "a second run found files again"


class FetcherConformance:
    """Subclass it with `plugin` and a `recorded_api` fixture returning the fetcher's environment."""

    plugin: ClassVar[Any]
    """The plugin module or object whose fetcher is under test."""

    @pytest.fixture
    def recorded_api(self) -> dict[str, str]:
        """Override it: serve the recorded responses, return the environment pointing the fetcher at them."""
        raise NotImplementedError("override the recorded_api fixture: serve recorded responses, return the env")

    def test_the_fetcher_honours_its_bookmark(self, tmp_path: Path, recorded_api: dict[str, str]) -> None:
        """A first fetch writes files of declared types that load; a second, from the bookmarks, writes none."""
        h = Harness(tmp_path, self.plugin)
        fetchable = [name for name, s in h.plugins.services.items() if s.fetcher is not None]
        assert fetchable, "no service of the plugin has a fetcher"
        for service in fetchable:
            first = h.fetch("--service", service, "--json", env=recorded_api)
            assert first.exit_code == 0, first.output
            fetched = _fetched(first.stdout)
            declared = {dt.name for dt in h.plugins.services[service].data_types}
            unknown = sorted({item["data_type"] for item in fetched} - declared)
            assert not unknown, f"the fetcher of {service} fetches types the service does not declare: {unknown}"
            written = [f for item in fetched for f in item["files"]]
            assert written, f"the first fetch of {service} wrote nothing"
            result = h.ingest("--service", service)
            assert result.success and result.totals["loaded"], [f.reason for f in result.files]
            second = h.fetch("--service", service, "--json", env=recorded_api)
            assert second.exit_code == 0, second.output
            again = {item["data_type"]: item["files"] for item in _fetched(second.stdout) if item["files"]}
            assert not again, f"a second fetch of {service}, from its bookmarks, wrote files again: {again}"


def _assert_latest(h: Harness, table: str, key: tuple[str, ...], where: str) -> None:
    """The latest view of `table` exists and holds one row per key of the table."""
    dataset, name = table.split(".")
    assert h.columns(dataset, name + SUFFIX), f"no latest view {table}{SUFFIX} of {where}"
    columns = ", ".join("_row." + ".".join(f'"{part}"' for part in column.split(".")) for column in key)
    keys = f"SELECT count(*) FROM (SELECT DISTINCT {columns} FROM {table} AS _row)"  # noqa: S608 (validated)
    rows = f"SELECT count(*) FROM {table}{SUFFIX}"  # noqa: S608 (validated identifiers)
    assert h.query(rows) == h.query(keys), f"{table}{SUFFIX} does not hold one row per key of {where}"


def _has_dates(h: Harness, table: str, column: str) -> bool:
    """Whether a column holds a date `ingestor status` reads (a DATE, a TIMESTAMP, a YYYY-MM-DD string)."""
    warehouse = DuckDBWarehouse(h.database, read_only=True)
    try:
        dataset, name = table.split(".")
        return bool(warehouse.days_covered(dataset, name, column, date.today()))
    finally:
        warehouse.close()


def _fetched(stdout: str) -> list[dict[str, Any]]:
    return [item for service in json.loads(stdout)["services"] for item in service["data_types"]]


_BAD = {FileStatus.REJECTED, FileStatus.FAILED, FileStatus.WOULD_REJECT}


def _files(folder: Path) -> Iterator[Path]:
    return (p for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith("."))


def _matches(loaded: Plugins, files: dict[str, bytes]) -> Iterator[Any]:
    for name in files:
        found = loaded.catalog.match(name.split("/", 1)[0], name.rsplit("/", 1)[-1])
        if found is not None:
            yield found
