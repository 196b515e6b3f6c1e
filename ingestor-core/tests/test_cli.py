"""The CLI's interface: exit codes, messages, --json, logging, settings from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingestor.catalog import DataType
from ingestor.result import IngestResult
from ingestor.testing import Declarations, Harness

EVENTS = "acme/landing/2025_01_01_00_00_acme_events.jsonl"


def test_unknown_service_lists_the_installed_ones(harness: Harness) -> None:
    run = harness.run("--service", "nope")
    assert run.exit_code == 2
    assert "unknown service 'nope'" in run.stderr and "acme, other" in run.stderr


def test_data_type_of_another_service_is_named(harness: Harness) -> None:
    run = harness.run("--service", "acme", "--data-types", "things")
    assert run.exit_code == 2 and "'things' belongs to other" in run.stderr
    run = harness.run("--service", "acme", "--data-types", "evnts")
    assert run.exit_code == 2 and "unknown data type 'evnts'" in run.stderr and "events" in run.stderr


def test_missing_service_and_bad_values_exit_2(harness: Harness) -> None:
    assert harness.run().exit_code == 2
    bad = harness.run("--service", "acme", "--log-format", "xml")
    assert bad.exit_code == 2 and "log_format" in bad.stderr
    assert harness.run("--service", "acme", "--env", "../etc").exit_code == 2
    assert harness.run("--service", "acme", "--warehouse", "mysql://x").exit_code == 2


def test_nothing_to_do_exits_0(harness: Harness) -> None:
    run = harness.run("--service", "acme")
    assert run.exit_code == 0 and "nothing to do" in run.stdout


def test_json_result_validates_and_logs_stay_on_stderr(harness: Harness) -> None:
    harness.land(EVENTS, [{"id": 1}])
    run = harness.run("--service", "acme", "--json")
    result = IngestResult.model_validate_json(run.stdout)
    assert result.services == ["acme"] and result.env == "dev" and result.finished_at >= result.started_at
    assert result.files[0].destination == "acme/archive/2025_01_01_00_00_acme_events.jsonl"
    assert "loaded" in run.stderr and "loaded" not in run.stdout.split('"status"')[0]


def test_summary_off_a_terminal_keeps_its_natural_width(tmp_path: Path) -> None:
    """Piped (CliRunner's stdout is no terminal), no table name is folded over lines; names are not markup."""
    table = "a_table_name_long_enough_to_be_folded_in_eighty_columns"
    harness = Harness(tmp_path, Declarations(DataType(service="wide", name="things", dataset="d_{env}", table=table)))
    harness.land("wide/landing/2025_01_01_00_00_wide_things.jsonl", [{"id": 1}])
    harness.land("wide/landing/[bold]x[/bold].jsonl", [{"id": 1}])
    run = harness.run("--service", "wide")
    assert run.exit_code == 1
    assert ": wide [dev]" in run.stdout.splitlines()[0]  # printed as is, not read as markup
    assert "rejected: wide/landing/[bold]x[/bold].jsonl — no data type matches" in run.stdout
    [row] = [line for line in run.stdout.splitlines() if "wide.things" in line]
    assert f"d_dev.{table}" in row and "new table, 3 columns" in row
    assert all(line == line.rstrip() for line in run.stdout.splitlines())


def test_json_log_format_has_severity_and_log_level_applies(harness: Harness) -> None:
    harness.land(EVENTS, [{"id": 1}])
    harness.land("acme/landing/junk.jsonl", [{"id": 1}])
    run = harness.run("--service", "acme", "--log-format", "json", "--log-level", "warning")
    lines = [json.loads(line) for line in run.stderr.splitlines() if line.strip()]
    assert lines and {line["severity"] for line in lines} == {"WARNING"}
    assert any("junk.jsonl" in line["message"] for line in lines)


def test_settings_come_from_the_environment(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    harness.land(EVENTS, [{"id": 1}])
    run = harness.run(env={"INGESTOR_SERVICE": "acme", "INGESTOR_JSON": "true", "LOG_LEVEL": "error"})
    assert run.exit_code == 0
    assert IngestResult.model_validate_json(run.stdout).totals["loaded"] == 1
    assert run.stderr == ""


def test_list_types_and_plugins(harness: Harness) -> None:
    listing = harness.cli("list-types", "--json")
    declared = json.loads(listing.stdout)
    assert {d["service"] + "." + d["name"] for d in declared} == {
        "acme.events",
        "acme.profile",
        "acme.player_profile",
        "other.things",
    }
    assert next(d for d in declared if d["name"] == "events")["target"] == "lake_dev.acme__events"
    text = harness.cli("list-types", "--service", "acme")
    assert "acme (3 data types)" in text.stdout and "lake_dev.acme__profile" in text.stdout
    plugins = json.loads(harness.cli("plugins", "--json").stdout)
    assert [p["hooks"] for p in plugins] == [["services"]] * len(plugins)  # the core is no plugin: it has no hook
    assert sum(p["data_types"] for p in plugins) == 4


def test_demo_writes_the_plugins_demo_files(harness: Harness) -> None:
    run = harness.cli("demo", "--days", "3", "--seed", "5", "--data-dir", str(harness.root))
    assert run.exit_code == 0 and "wrote 3 demo files" in run.stdout
    assert len(harness.files("acme/landing")) == 3
    assert harness.run("--service", "acme").exit_code == 0
    assert harness.query("SELECT max(seed) FROM lake_dev.acme__events") == [(5,)]


def test_task_shards_split_the_work_and_cover_it_once(harness: Harness) -> None:
    names = [
        EVENTS,
        "acme/landing/2025_01_01_00_00_acme_bob_profile.jsonl",
        "acme/landing/2025_01_01_00_00_acme_bob_player_profile.jsonl",
        "acme/landing/unknown.jsonl",
    ]
    for name in names:
        harness.land(name, [{"x": 1}])
    handled: list[str] = []
    for index in range(3):
        task = {"CLOUD_RUN_TASK_INDEX": str(index), "CLOUD_RUN_TASK_COUNT": "3"}
        handled += [f.path for f in harness.ingest("--service", "acme", env=task).files]
    assert sorted(handled) == sorted(names)  # each file by exactly one task
    assert harness.files("acme/landing") == []
    task = {"CLOUD_RUN_TASK_INDEX": "3", "CLOUD_RUN_TASK_COUNT": "3"}
    assert harness.run("--service", "acme", env=task).exit_code == 2


def test_python_dash_m_and_light_startup(tmp_path: Path) -> None:
    env = {**os.environ, "INGESTOR_LOAD_PLUGINS": ""}
    run = subprocess.run(
        [sys.executable, "-m", "ingestor", "--help"], capture_output=True, text=True, env=env, check=False
    )
    assert run.returncode == 0 and "run" in run.stdout
    probe = (
        "import sys; from ingestor.cli import app; from typer.testing import CliRunner; "
        "[CliRunner().invoke(app, a) for a in (['--help'], ['list-types'], ['plugins'])]; "
        "print(sorted(m for m in sys.modules if m.startswith(('google', 'duckdb'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("blocked", "args", "extra"),
    [
        ("google", ["run", "--service", "garmin", "--landing", "gs://b", "--warehouse", "bigquery://p"], "gcp"),
        ("google", ["run", "--service", "garmin", "--warehouse", "bigquery://p"], "gcp"),
        ("google", ["demo", "--landing", "gs://b"], "gcp"),
        ("httpx", ["fetch", "--service", "chess"], "fetch"),
    ],
)
def test_a_missing_extra_is_one_line_and_exit_2(tmp_path: Path, blocked: str, args: list[str], extra: str) -> None:
    """Without an optional dependency (blocked in sys.modules, as if not installed), the real
    command says in one line what to install: no traceback."""
    probe = (
        f"import sys; sys.modules[{blocked!r}] = None; sys.argv = ['ingestor', *{args!r}]; "
        "from ingestor.cli import main; main()"
    )
    env = {**os.environ, "INGESTOR_DATA_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), run.stderr
    assert lines[0].endswith(f"pip install 'ingestor-core[{extra}]'")


def test_bigquery_stages_in_the_landing_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    from ingestor.settings import Settings

    monkeypatch.delenv("INGESTOR_STAGING_BUCKET", raising=False)
    assert Settings(warehouse="bigquery://p", landing="gs://b/prefix").warehouse_url == "bigquery://p?staging=gs://b"
    assert Settings(warehouse="bigquery://p?location=EU", landing="gs://", env="prd").warehouse_url == (
        "bigquery://p?location=EU&staging=gs://ela-dp-prd"
    )
    assert Settings(warehouse="bigquery://p?staging=gs://other", landing="gs://b").warehouse_url.endswith("gs://other")
    monkeypatch.setenv("INGESTOR_STAGING_BUCKET", "gs://explicit")
    assert Settings(warehouse="bigquery://p", landing="gs://b").warehouse_url == "bigquery://p"


def test_python_dash_m_with_parallel_staging_workers(tmp_path: Path) -> None:
    """Staging in worker processes, in a real `python -m ingestor` with an entry-point plugin."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "zeta_plugin.py").write_text(
        "from ingestor import DataType, Service, hookimpl\n\n"
        "def shout(record, source):\n    return {**record, 'loud': str(record['id']).upper()}\n\n"
        "@hookimpl\ndef services():\n"
        "    return [Service(data_types=[DataType(service='zeta', name='things', dataset='z_{env}', table='things',"
        " normalize=shout)])]\n"
    )
    info = site / "ingestor_zeta-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ingestor-zeta\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ingestor]\nzeta = zeta_plugin\n")
    landing = tmp_path / "data" / "ela-dp-dev" / "zeta" / "landing"
    landing.mkdir(parents=True)
    for n in range(4):
        (landing / f"2025_01_0{n + 1}_00_00_zeta_things.jsonl").write_text(
            "".join(json.dumps({"id": n * 100 + i, "n": {"k": i}}) + "\n" for i in range(100))
        )
    # A test-only launcher: `python -m ingestor` (as runpy runs it), with every batch of two files or more staged
    # in worker processes (the threshold is a module constant, not a setting), saying so on stderr.
    launcher = tmp_path / "launch.py"
    launcher.write_text(
        "import runpy, sys\n"
        "from ingestor import staging\n"
        "in_workers = staging._stage_in_workers\n\n"
        "def spy(batch, tasks, workers):\n"
        "    print(f'staged {len(tasks)} files in {workers} worker processes', file=sys.stderr)\n"
        "    in_workers(batch, tasks, workers)\n\n"
        "staging.PARALLEL_MIN_BYTES, staging._stage_in_workers = 0, spy\n"
        "sys.argv = ['ingestor', *sys.argv[1:]]\n"
        "runpy.run_module('ingestor', run_name='__main__', alter_sys=True)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site), "INGESTOR_LOAD_PLUGINS": "ingestor-zeta", "INGESTOR_WORKERS": "2"}
    run = subprocess.run(
        [sys.executable, str(launcher), "run", "--service", "zeta", "--data-dir", str(tmp_path / "data"), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "staged 4 files in 2 worker processes" in run.stderr
    result = IngestResult.model_validate_json(run.stdout)
    assert result.totals["loaded"] == 4 and result.totals["rows"] == 400
    import duckdb

    with duckdb.connect(str(tmp_path / "data" / "warehouse_dev.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT id), count(loud), max(n.k) FROM z_dev.things").fetchall() == [
            (400, 400, 99)
        ]


def test_explicit_landing_and_warehouse_urls(harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    landing = tmp_path / "elsewhere" / "my bucket"
    events = landing / "acme" / "landing" / "2025_01_01_00_00_acme_events.jsonl"
    events.parent.mkdir(parents=True)
    events.write_text('{"id": 7}\n')
    database = tmp_path / "wh" / "explicit.duckdb"
    run = harness.cli("run", "--service", "acme", "--landing", landing.as_uri(), "--warehouse", f"duckdb://{database}")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert (landing / "acme" / "archive" / events.name).exists() and database.exists()
    assert not harness.database.exists()  # the embedded default was not touched
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT id FROM lake_dev.acme__events").fetchall() == [(7,)]
    # A relative DuckDB path (duckdb://relative/path.duckdb) is taken from the working directory.
    monkeypatch.chdir(tmp_path)
    events.write_text('{"id": 8}\n')
    run = harness.cli("run", "--service", "acme", "--landing", str(landing), "--warehouse", "duckdb://rel/w.duckdb")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert (tmp_path / "rel" / "w.duckdb").exists()


def test_the_seed_form_without_a_sub_command(harness: Harness) -> None:
    env = {"INGESTOR_DATA_DIR": str(harness.root)}  # the seed form takes its other settings from the environment
    harness.land("acme/landing/2025_01_01_00_00_acme_events.jsonl", [{"id": 1}])
    harness.land("acme/landing/2025_01_01_00_00_acme_bob_profile.jsonl", [{"seen": "2025-01-01T00:00:00Z"}])
    planned = harness.cli("--service", "acme", "--env", "dev", "--data-types", "events", "--dry-run", env=env)
    assert planned.exit_code == 0, planned.stderr
    assert not harness.database.exists() and len(harness.files("acme/landing")) == 2
    done = harness.cli("--service", "acme", "--env", "dev", "--data-types", "events", env=env)
    assert done.exit_code == 0, done.stderr
    assert harness.files("acme/archive") == ["acme/archive/2025_01_01_00_00_acme_events.jsonl"]
    assert harness.query("SELECT id FROM lake_dev.acme__events") == [(1,)]
    listed = harness.cli("--list-types")
    assert listed.exit_code == 0 and listed.stdout == harness.cli("list-types").stdout
    assert "lake_dev.acme__profile" in listed.stdout
    assert harness.cli("--service", "nope", "--env", "dev").exit_code == 2
    mixed = harness.cli("--service", "acme", "run")
    assert mixed.exit_code == 2 and "after the sub-command" in mixed.stderr
    assert harness.cli("--list-types", "--dry-run").exit_code == 2
