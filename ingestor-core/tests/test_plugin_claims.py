"""Installing a plugin never breaks a service that works (real distributions through entry points): a newcomer
that claims a table of another service is disabled alone; a service that cannot be used fails alone in a run;
a name no plugin declares is a usage error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ingestor.claims import named_after
from ingestor.cli import app

from .conftest import Site

CLAIMS_CHESS = (
    "from ingestor import DataType, Service, hookimpl\n\n\n@hookimpl\ndef services():\n"
    "    return [Service(data_types=[DataType(service='strava', name='games', dataset='dp_lake_{env}',"
    " table='lake_chess__games')])]\n"
)
BROKEN = "from ingestor import DataType, Service, hookimpl\n\nGAMES = DataTyp\n"  # line 3: a typo


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def chess_demo(data: Path) -> list[str]:
    """The chess demo's landing files (one day), written into `data`."""
    written = cli("demo", "--service", "chess", "--days", "1", "--data-dir", str(data))
    assert written.exit_code == 0, written.output
    return sorted(p.name for p in (data / "ela-dp-dev" / "chess" / "landing").rglob("*.jsonl"))


def test_a_newcomer_claiming_the_table_of_chess_is_disabled_and_chess_loads(site: Site, data: Path) -> None:
    site.install("ingestor-strava", CLAIMS_CHESS)
    site.only("ingestor-chess")
    landed = chess_demo(data)

    run = cli("run", "--service", "chess", "--data-dir", str(data), "--json")
    assert run.exit_code == 0, run.output
    assert [f["status"] for f in json.loads(run.stdout)["files"]] == ["loaded"] * len(landed)
    why = (
        "strava.games writes dp_lake_dev.lake_chess__games, the table of chess.games (it is named after chess): "
        "strava is disabled"
    )
    check = cli("plugins", "--check")
    assert check.exit_code == 1 and check.stdout.count("problem: ") == 1
    assert f"problem: ingestor-strava: {why}" in check.stdout
    rows = {row["distribution"]: row["problems"] for row in json.loads(cli("plugins", "--json").stdout)}
    assert rows["ingestor-chess"] == [] and rows["ingestor-strava"] == [why]

    newcomer = cli("run", "--service", "strava", "--data-dir", str(data), "--json")
    assert newcomer.exit_code == 1
    [outcome] = json.loads(newcomer.stdout)["files"]
    assert outcome["status"] == "failed" and outcome["reason"].startswith("service strava is disabled: strava.games")


def test_a_broken_plugin_named_in_a_run_fails_alone(site: Site, data: Path) -> None:
    site.install("ingestor-broken", BROKEN, entry_point="broken = ingestor_broken")
    site.only("ingestor-chess")
    landed = chess_demo(data)

    run = cli("run", "--service", "chess,broken", "--data-dir", str(data), "--log-level", "DEBUG")
    assert run.exit_code == 1, run.output
    where = "NameError: name 'DataTyp' is not defined (ingestor_broken.py, line 3, in ingestor_broken)"
    failed = "failed: broken/landing/ — service broken is not available: its plugin ingestor-broken is broken: "
    assert f"{failed}failed to import ingestor_broken: {where}" in run.stdout
    assert f"{len(landed) + 1} files ({len(landed)} loaded, 1 failed)" in run.stdout
    assert run.stderr.count("Traceback (most recent call last)") == 1  # DEBUG: the import's traceback, once
    assert 'ingestor_broken.py", line 3, in <module>' in run.stderr

    unknown = cli("run", "--service", "chess,nosuch", "--data-dir", str(data))
    assert unknown.exit_code == 2 and "unknown service 'nosuch'" in unknown.stderr
    assert "these plugins failed to load: ingestor-broken" in unknown.stderr


def test_demo_of_an_unknown_service_is_a_usage_error_and_of_a_disabled_one_a_failure(site: Site, data: Path) -> None:
    site.install("ingestor-strava", CLAIMS_CHESS)
    site.only("ingestor-chess")
    unknown = cli("demo", "--service", "nosuch", "--data-dir", str(data))
    assert unknown.exit_code == 2 and "unknown service 'nosuch'" in unknown.stderr
    disabled = cli("demo", "--service", "chess,strava", "--days", "1", "--data-dir", str(data))
    assert disabled.exit_code == 1 and "Error: no demo of strava: service strava is disabled: " in disabled.stderr
    assert (data / "ela-dp-dev" / "chess" / "landing").is_dir() and not (data / "ela-dp-dev" / "strava").exists()


@pytest.mark.parametrize(
    ("table", "services", "named"),
    [
        ("lake_chess__games", ["strava", "chess"], ["chess"]),  # a part of the name
        ("lake_two_words__x", ["two_words", "words_x"], ["two_words"]),  # a service of several parts
        ("LAKE_CHESS__GAMES", ["chess"], ["chess"]),  # (DuckDB and BigQuery ignore case)
        ("shared", ["alpha", "beta"], []),  # named after none: none owns it
        ("chess_games", ["chess", "games"], ["chess", "games"]),  # after several: none owns it
        ("lake_chessboard__x", ["chess"], []),  # not a whole part
    ],
)
def test_a_table_is_named_after_the_services_that_are_a_whole_part_of_its_name(
    table: str, services: list[str], named: list[str]
) -> None:
    assert named_after(table, services) == named


def test_a_table_named_after_several_claimants_disables_them_all(site: Site) -> None:
    for name, other in (("chess", "games"), ("games", "chess")):
        site.install(
            f"ingestor-{name}-fork",
            "from ingestor import DataType, Service, hookimpl\n\n\n@hookimpl\ndef services():\n"
            f"    return [Service(data_types=[DataType(service='{name}', name='{other}', dataset='d',"
            " table='chess_games')])]\n",
        )
    site.only()
    check = cli("plugins", "--check")
    why = "chess.games and games.chess write one table, d.chess_games, which is named after chess and games alike"
    assert check.exit_code == 1
    assert f"problem: ingestor-chess-fork: {why}: chess is disabled" in check.stdout
    assert f"problem: ingestor-games-fork: {why}: games is disabled" in check.stdout
