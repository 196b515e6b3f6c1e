"""The contract's edges: what a normalizer may return, the public API, and a hermetic harness."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

import ingestor
from ingestor import DataType, FetchRequest, Service, SourceFile, hookimpl, run_fetch
from ingestor.result import FileStatus
from ingestor.testing import Declarations, Harness

NAME = "strava/landing/2025_01_01_00_00_strava_activities.jsonl"


class Strava:
    """Service `strava` whose normalizer returns whatever the test asks for."""

    def __init__(self, normalize: Any) -> None:
        self.normalize = normalize

    @hookimpl
    def services(self) -> list[Service]:
        activities = DataType(
            service="strava", name="activities", dataset="s_{env}", table="activities", normalize=self.normalize
        )
        return [Service(data_types=[activities])]


@pytest.mark.parametrize(
    ("returned", "shape"),
    [(None, "None"), ("x", "a str"), ([{"a": 1}, 2], "a list holding dict, int"), ((), "a tuple")],
)
def test_a_normalizer_returning_the_wrong_shape_rejects_the_file_plainly(
    tmp_path: Path, returned: Any, shape: str
) -> None:
    h = Harness(tmp_path, Strava(lambda record, source: returned))
    h.land(NAME, [{"id": 1}])
    result = h.ingest("--service", "strava")
    [outcome] = result.files
    assert outcome.status is FileStatus.REJECTED
    assert outcome.reason == (
        f"line 1: normalizer of strava.activities returned {shape}; expected a dict or a list of dicts"
    )
    assert h.files("strava/rejected") == [
        NAME.replace("landing", "rejected"),
        NAME.replace("landing", "rejected") + ".reason.json",
    ]


def test_records_a_normalizer_drops_are_counted_apart_from_empty_files(tmp_path: Path) -> None:
    def keep_odd(record: dict[str, Any], source: SourceFile) -> list[dict[str, Any]]:
        return [record] if record["id"] % 2 else []

    h = Harness(tmp_path, Strava(keep_odd))
    h.land(NAME, [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}])
    h.land(NAME.replace("00_00", "00_01"), [{"id": 2}, {"id": 4}])
    h.land(NAME.replace("00_00", "00_02"), "")
    outcomes = {f.path: f for f in h.ingest("--service", "strava").files}
    some, none, empty = (outcomes[NAME.replace("00_00", stamp)] for stamp in ("00_00", "00_01", "00_02"))
    assert (some.status, some.rows, some.dropped, some.reason) == (FileStatus.LOADED, 2, 2, None)
    assert (none.status, none.rows, none.dropped) == (FileStatus.EMPTY, 0, 2)
    assert none.reason == "no rows: the normalizer dropped all 2 records"
    assert (empty.status, empty.dropped, empty.reason) == (FileStatus.EMPTY, 0, "empty file: no records")
    assert h.query("SELECT id FROM s_dev.activities ORDER BY id") == [(1,), (3,)]


def test_a_data_type_with_a_primary_key_gets_its_latest_view_beside_its_table(tmp_path: Path) -> None:
    """An object of the user's dataset, so an interface: `{table}__latest`, the table's columns in its order."""
    keyed = DataType(service="strava", name="activities", dataset="s_{env}", table="activities",
                     primary_key=("id",), schema_hints={"id": "INT64"})  # fmt: skip
    h = Harness(tmp_path, Declarations(keyed))
    h.land(NAME, [{"id": 1, "name": "a"}, {"id": 1, "name": "b"}, {"id": 2, "name": "c"}])
    assert h.ingest("--service", "strava").success
    assert list(h.columns("s_dev", "activities__latest").items()) == list(h.columns("s_dev", "activities").items())
    assert h.query("SELECT id, count(*) FROM s_dev.activities__latest GROUP BY id ORDER BY id") == [(1, 1), (2, 1)]


def test_the_public_api_is_everything_a_plugin_needs() -> None:
    repo = Path(__file__).resolve().parents[2]
    used = {
        alias.name
        for path in repo.glob("ingestor-*/src/ingestor_*/*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ingestor"
        for alias in node.names
    }
    assert used and used <= set(ingestor.__all__), sorted(used - set(ingestor.__all__))
    for name in ingestor.__all__:
        assert getattr(ingestor, name) is not None, name
    assert ingestor.FetchRequest.__module__.startswith("ingestor.fetching.")  # imported on first use
    with pytest.raises(AttributeError):
        ingestor.nothing_like_this  # noqa: B018


def test_the_harness_ignores_the_run_environment_and_dot_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("INGESTOR_WAREHOUSE", f"duckdb://{elsewhere}/real.duckdb")
    monkeypatch.setenv("INGESTOR_LANDING", elsewhere.as_uri())
    monkeypatch.setenv("INGESTOR_LOAD_PLUGINS", "")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("INGESTOR_DATA_TYPES=nothing\nINGESTOR_DRY_RUN=true\n")
    h = Harness(tmp_path / "h", Strava(None))
    h.land(NAME, [{"id": 1}])
    assert h.ingest("--service", "strava").totals["loaded"] == 1
    assert h.query("SELECT id FROM s_dev.activities") == [(1,)]
    assert not elsewhere.exists()


class Fetching:
    """Service `name` whose fetcher returns `returned` (or raises it), and a data type `things`."""

    def __init__(self, name: str, returned: Any) -> None:
        self.name, self.returned = name, returned

    @hookimpl
    def services(self) -> list[Service]:
        things = DataType(service=self.name, name="things", dataset="f_{env}", table=f"{self.name}_things")
        return [Service(data_types=[things], fetcher=self.fetch)]

    def fetch(self, request: FetchRequest) -> Any:
        if isinstance(self.returned, Exception):
            raise self.returned
        if self.returned == "ok":
            return run_fetch(self.name, request, {"things": lambda task: task.write([{"id": 1}])})
        return self.returned


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (RuntimeError("bug"), "the fetcher of broken raised RuntimeError: bug"),
        (None, "the fetcher of broken returned NoneType; expected a FetchResult"),
    ],
)
def test_a_broken_fetcher_fails_its_service_only(tmp_path: Path, returned: Any, message: str) -> None:
    h = Harness(tmp_path, Fetching("broken", returned), Fetching("fine", "ok"))
    run = h.fetch("--service", "broken,fine", "--json")
    assert run.exit_code == 1 and message in run.stderr
    broken, fine = json.loads(run.stdout)["services"]
    [(data_type, status, error)] = [(t["data_type"], t["status"], t["error"]) for t in broken["data_types"]]
    assert (data_type, status) == ("things", "failed") and error.startswith(message)
    if isinstance(returned, Exception):  # and where in the fetcher's own code
        assert "/test_contract.py, line " in error and error.endswith("test_contract.fetch)")
    assert fine["data_types"][0]["status"] == "fetched" and h.files("fine/landing")


def test_a_broken_demo_fails_its_service_only(tmp_path: Path) -> None:
    def broken(days: int, seed: int) -> dict[str, bytes]:
        raise ValueError("no demo today")

    def elsewhere(days: int, seed: int) -> dict[str, bytes]:
        return {"other/landing/1_x_things.jsonl": b"{}\n"}

    class Demos:
        @hookimpl
        def services(self) -> list[Service]:
            def service(name: str, demo: Any) -> Service:
                return Service(data_types=[DataType(service=name, name="things", dataset="d", table=name)], demo=demo)

            good = service(
                "good", lambda days, seed: {f"good/landing/{d}_good_things.jsonl": b"{}\n" for d in range(days)}
            )
            return [service("broken", broken), service("stray", elsewhere), good]

    h = Harness(tmp_path, Demos())
    run = h.cli("demo", "--days", "2", "--landing", h.landing.as_uri())
    assert run.exit_code == 1 and "wrote 2 demo files" in run.stdout
    assert "the demo of broken failed: ValueError: no demo today" in run.stderr
    assert (
        "the demo of stray failed: ValueError: 'other/landing/1_x_things.jsonl' is not under stray/landing/"
        in run.stderr
    )
    assert h.files() == ["good/landing/0_good_things.jsonl", "good/landing/1_good_things.jsonl"]
