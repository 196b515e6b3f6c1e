"""A test plugin and fixtures. Installed plugins are never autoloaded here: the harness
registers exactly the plugin objects a test gives it; `site` installs real distributions."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from ingestor import DataType, Service, SourceFile, View, ViewSource, hookimpl, staging
from ingestor.catalog import Catalog
from ingestor.landing import open_landing
from ingestor.plugins import Plugins, load_plugins
from ingestor.run import faults
from ingestor.run.context import RunContext
from ingestor.settings import Settings
from ingestor.testing import Harness
from ingestor.warehouse import Warehouse, open_warehouse


def _profile(record: dict[str, Any], source: SourceFile) -> dict[str, Any]:
    if record.get("explode"):
        raise ValueError("cannot normalize this record")
    return {"username": source.attributes.get("username"), "seen_at": record.get("seen"), "raw": record}


class AcmePlugin:
    """Service `acme`: plain events, a normalized profile with a username in the file name."""

    @hookimpl
    def services(self) -> list[Service]:
        return [Service(name="acme", data_types=self.types(), views=self.views(), demo=self.demo)]

    def types(self) -> list[DataType]:
        return [
            DataType(service="acme", name="events", dataset="lake_{env}", table="acme__events", primary_key=("id",)),
            DataType(
                service="acme",
                name="profile",
                dataset="lake_{env}",
                table="acme__profile",
                file_patterns=(r".+_acme_(?P<username>.+)_profile",),
                schema_hints={"seen_at": "TIMESTAMP", "raw": "JSON"},
                normalize=_profile,
            ),
            DataType(
                service="acme",
                name="player_profile",
                dataset="lake_{env}",
                table="acme__player_profile",
                file_patterns=(r".+_acme_(?P<username>.+)_player_profile",),
            ),
        ]

    def views(self) -> list[View]:
        return [
            View(
                service="acme",
                dataset="lake_{env}",
                name="acme__all",
                columns=("kind", "username", "id"),
                sources=(
                    ViewSource(
                        dataset="lake_{env}", table="acme__events", columns={"id": "id"}, constants={"kind": "events"}
                    ),
                    ViewSource(
                        dataset="lake_{env}",
                        table="acme__profile",
                        columns={"username": "username"},
                        constants={"kind": "profile"},
                    ),
                ),
            )
        ]

    def demo(self, days: int, seed: int) -> dict[str, bytes]:
        return {
            f"acme/landing/2025_01_{d + 1:02d}_00_00_acme_events.jsonl": f'{{"id": {d}, "seed": {seed}}}\n'.encode()
            for d in range(days)
        }


class OtherPlugin:
    """Service `other`, to check cross-service messages."""

    @hookimpl
    def services(self) -> list[Service]:
        return [
            Service(
                name="other",
                data_types=[DataType(service="other", name="things", dataset="other_{env}", table="things")],
            )
        ]


@pytest.fixture
def duckdb_fails_on(monkeypatch: pytest.MonkeyPatch) -> Callable[[bytes, type[Exception], str], None]:
    """`duckdb_fails_on(marker, error, message)`: DuckDB's NDJSON insert raises `error(message)` for every batch
    whose staged rows hold `marker`, and inserts the others. A test double for what a real DuckDB raises only on
    data no test should write (a record wider than its memory) or a failing disk."""
    from ingestor.warehouse.duckdb.inserts import Inserts

    def fail_on(marker: bytes, error: type[Exception], message: str) -> None:
        insert = Inserts.ndjson

        def ndjson(self: Inserts, target: str, columns: list[Any], paths: list[Path], widest: int) -> None:
            if any(marker in path.read_bytes() for path in paths):
                raise error(message)
            insert(self, target, columns, paths, widest)

        monkeypatch.setattr(Inserts, "ndjson", ndjson)

    return fail_on


@pytest.fixture
def acme_plugins() -> Plugins:
    """The test services' plugins alone (no entry points), for tests that drive the run's steps themselves."""
    return load_plugins([AcmePlugin()], entry_points=False, strict=True)


OpenContext = Callable[..., AbstractContextManager[RunContext]]


@pytest.fixture
def run_context() -> OpenContext:
    """`run_context(landing_root, database, catalog, wrap=..., **fields)`: a run's context (env `dev`) on a local
    landing zone and a DuckDB file, for tests that drive the run's steps themselves; both closed as the block ends.
    `wrap` sees the warehouse first (a spy); `fields` are the context's others."""

    @contextmanager
    def opened(
        landing_root: Path,
        database: Path,
        catalog: Catalog,
        wrap: Callable[[Warehouse], Warehouse] = lambda warehouse: warehouse,
        **fields: Any,
    ) -> Iterator[RunContext]:
        settings = Settings()
        landing = open_landing(landing_root.as_uri(), settings)
        warehouse = wrap(open_warehouse(f"duckdb://{database}", settings))
        try:
            yield RunContext(
                env="dev", landing=landing, warehouse=warehouse, catalog=catalog, settings=settings, **fields
            )
        finally:
            warehouse.close()
            landing.close()

    return opened


@pytest.fixture
def harness(tmp_path: Any) -> Harness:
    return Harness(tmp_path, AcmePlugin(), OtherPlugin())


@pytest.fixture
def at_checkpoint(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, Callable[[], object]], None]:
    """`at_checkpoint(point, act)`: run `act` the first time the run reaches the fault checkpoint `point`
    (a writer or another process acting at the worst moment)."""

    def arm(point: str, act: Callable[[], object]) -> None:
        acted: list[str] = []

        def hook(name: str) -> None:
            if name == point and not acted:
                acted.append(name)
                act()

        monkeypatch.setattr(faults, "_handler", hook)  # installed for this test only

    return arm


@pytest.fixture
def staging_in_workers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Stage every row-path batch of two files or more across worker processes (in-process runs: the
    batch size from which they are used, `staging.PARALLEL_MIN_BYTES`, becomes 0). The list it gives
    grows by the number of files of each batch staged in workers, so a test can check they were."""
    staged: list[int] = []
    in_workers = staging._stage_in_workers

    def spy(batch: staging.Batch, tasks: list[staging.StageTask], workers: int) -> None:
        staged.append(len(tasks))
        in_workers(batch, tasks, workers)

    monkeypatch.setattr(staging, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(staging, "_stage_in_workers", spy)
    return staged


class Site:
    """A folder on sys.path where a test installs real distributions: a plugin module and its dist-info with
    an `ingestor` entry point, found by `importlib.metadata` as pip's would be."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        self.distributions: list[str] = []
        self.modules: set[str] = set()  # top-level modules and packages installed

    def install(self, dist: str, source: str | dict[str, str], entry_point: str | None = None) -> None:
        """Install `dist`: its module (named after it, `-` as `_`) holding `source`, or the files `source` maps
        (paths from the site); its `ingestor` entry point is `entry_point` (`name = module`), by default the
        module's name and the module."""
        module = dist.replace("-", "_")
        files = {f"{module}.py": source} if isinstance(source, str) else source
        for name, text in files.items():
            (self.root / name).parent.mkdir(parents=True, exist_ok=True)
            (self.root / name).write_text(text)
            self.modules.add(Path(name).parts[0].removesuffix(".py"))
        info = self.root / f"{module}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
        (info / "entry_points.txt").write_text(f"[ingestor]\n{entry_point or f'{module} = {module}'}\n")
        self.distributions.append(dist)

    def only(self, *also: str) -> None:
        """Load only the distributions installed here (and `also`): whatever else is installed stays out."""
        self.monkeypatch.setenv("INGESTOR_LOAD_PLUGINS", ",".join([*self.distributions, *also]))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """Real distributions, installed for this test only; the working directory has no `.env`."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delenv("INGESTOR_STRICT_PLUGINS", raising=False)
    monkeypatch.chdir(tmp_path)
    installed = Site(root, monkeypatch)
    yield installed
    for name in [name for name in sys.modules if name.partition(".")[0] in installed.modules]:
        del sys.modules[name]
