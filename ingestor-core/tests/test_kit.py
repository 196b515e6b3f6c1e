"""The authoring kit: `ingestor new-plugin`, the conformance suite and the pytest plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingestor import DataType, FetchRequest, FetchResult, Service, TypeFetch, hookimpl, run_fetch
from ingestor.cli import app
from ingestor.conformance import FetcherConformance
from ingestor.testing import Harness


def generate(tmp_path: Path, name: str = "strava") -> Path:
    run = CliRunner().invoke(app, ["new-plugin", name, "--directory", str(tmp_path)])
    assert run.exit_code == 0, run.output
    return tmp_path / f"ingestor-{name.replace('_', '-')}"


def pytest_in(package: Path) -> subprocess.CompletedProcess[str]:
    """The generated package's own tests, as its author runs them (its source on the path)."""
    env = {**os.environ, "PYTHONPATH": str(package / "src")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", str(package / "tests")],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_generated_plugin_passes_its_tests_and_the_conformance_suite(tmp_path: Path) -> None:
    package = generate(tmp_path)
    plugin = package / "src" / "ingestor_strava" / "plugin.py"
    assert len(plugin.read_text().splitlines()) <= 40  # a simple service: two types, one normalizer
    run = pytest_in(package)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "9 passed" in run.stdout


@pytest.mark.parametrize(
    ("change", "failure"),
    [
        (
            ("demo.py", '    files[f"strava/landing/{START', '    files.clear()\n    files[f"strava/landing/{START'),
            "no demo or sample file for strava.events",
        ),
        (("plugin.py", 'return {"id"', 'return None and {"id"'), "normalizer of strava.events returned None"),
        (
            ("plugin.py", 'name="profile"', 'name="profile", file_patterns=(r".+_events",)'),
            "taken by another data type",
        ),
        (
            ("plugin.py", 'demo="ingestor_strava.demo:landing_files"', 'demo="ingestor_strava.demo:landing"'),
            "the demo of strava, 'ingestor_strava.demo:landing', does not resolve: AttributeError",
        ),
        (
            ("plugin.py", 'primary_key=("id",)', 'primary_key=("id", "kind")'),
            "primary key column(s) kind of strava.events not in dp_lake_dev.lake_strava__events",
        ),
        (
            ("plugin.py", 'primary_key=("id",)', 'primary_key=("id",), date_column="day"'),
            "date column day of strava.events not in dp_lake_dev.lake_strava__events",
        ),
        (
            ("plugin.py", 'primary_key=("id",)', 'primary_key=("id",), date_column="id"'),
            "date column id of strava.events holds no date",
        ),
        (
            (
                "plugin.py",
                'primary_key=("id",)',
                r'primary_key=("id",), file_patterns=(r".+_(?P<second>\d{2})_strava_events",), date_group="second"',
            ),
            "no date in its group 'second'",
        ),
    ],
)
def test_the_conformance_suite_catches_a_broken_plugin(
    tmp_path: Path, change: tuple[str, str, str], failure: str
) -> None:
    package = generate(tmp_path)
    module, old, new = change
    path = package / "src" / "ingestor_strava" / module
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    run = pytest_in(package)
    assert run.returncode == 1 and failure in run.stdout, run.stdout


def test_new_plugin_refuses_a_bad_name_or_an_existing_folder(tmp_path: Path) -> None:
    bad = CliRunner().invoke(app, ["new-plugin", "Not-A-Name", "--directory", str(tmp_path)])
    assert bad.exit_code == 2 and "is not a service name" in bad.stderr
    generate(tmp_path, "two_words")
    again = CliRunner().invoke(app, ["new-plugin", "two_words", "--directory", str(tmp_path)])
    assert again.exit_code == 2 and "exists already" in again.stderr


class Tiny:
    @hookimpl
    def services(self) -> list[Service]:
        return [Service(data_types=[DataType(service="tiny", name="x", dataset="t_{env}", table="x")])]


def test_the_pytest_plugin_gives_a_harness_factory(ingestor_harness: Callable[..., Harness]) -> None:
    first, second = ingestor_harness(Tiny()), ingestor_harness(Tiny(), env="prd")
    assert first.root != second.root and second.landing.name == "ela-dp-prd"
    first.land("tiny/landing/1_tiny_x.jsonl", [{"a": 1}])
    assert first.ingest("--service", "tiny").totals["loaded"] == 1


class Counter:
    """Service `counter`: a fetcher of ids 1..3 that keeps (or, `forgetful`, ignores) its bookmark."""

    def __init__(self, forgetful: bool) -> None:
        self.forgetful = forgetful

    @hookimpl
    def services(self) -> list[Service]:
        return [Service(data_types=[DataType(service="counter", name="ids", dataset="c_{env}", table="ids")],
                        fetcher=self.fetch)]  # fmt: skip

    def fetch(self, request: FetchRequest) -> FetchResult:
        def ids(task: TypeFetch) -> None:
            start = 0 if self.forgetful else int(task.bookmark or 0)
            task.write([{"id": i} for i in range(start + 1, 4)])
            task.bookmark = 3

        return run_fetch("counter", request, {"ids": ids})


@pytest.mark.parametrize("forgetful", [False, True])
def test_the_fetcher_check_catches_a_fetcher_that_ignores_its_bookmark(tmp_path: Path, forgetful: bool) -> None:
    class Check(FetcherConformance):
        plugin = Counter(forgetful)

    if forgetful:
        with pytest.raises(AssertionError, match="from its bookmarks, wrote files again"):
            Check().test_the_fetcher_honours_its_bookmark(tmp_path, {})
    else:
        Check().test_the_fetcher_honours_its_bookmark(tmp_path, {})


def test_the_fetcher_check_catches_a_type_the_service_does_not_declare(tmp_path: Path) -> None:
    class Stray(Counter):
        def fetch(self, request: FetchRequest) -> FetchResult:
            return run_fetch("counter", request, {"idz": lambda task: task.write([{"id": 1}])})

    class Check(FetcherConformance):
        plugin = Stray(forgetful=False)

    with pytest.raises(AssertionError, match=r"fetches types the service does not declare: \['idz'\]"):
        Check().test_the_fetcher_honours_its_bookmark(tmp_path, {})
