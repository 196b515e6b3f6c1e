"""docker/docker-entrypoint.sh against the real `ingestor` and the embedded default (folder + DuckDB).

The real ingestor autoloads a tiny plugin (service `dtest`, see conftest.py); a fake `ingestor`
first on PATH records the exact command where the real one cannot run (fetch, BigQuery)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

ENTRYPOINT = Path(__file__).resolve().parents[1] / "docker-entrypoint.sh"
SERVICE = "dtest"  # the test plugin's service (conftest.py)

INGEST = {"MODE": "ingest", "SERVICE": SERVICE, "ENV": "dev"}
RUN = ["run", "--service", SERVICE, "--env", "dev", "--json"]  # what INGEST runs


def result_of(proc: subprocess.CompletedProcess[str]) -> dict:
    """The run's JSON result (stdout), with a useful message when it is not there."""
    assert proc.stdout.strip(), f"no result on stdout; stderr:\n{proc.stderr}"
    return json.loads(proc.stdout)


# --- usage errors: exit 2 and a message naming what is wrong -------------------------------


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({}, "MODE is not set"),
        ({"MODE": ""}, "MODE is not set"),
        ({"MODE": "load"}, "MODE=load is unknown"),
        ({"MODE": "ingest"}, "SERVICE is required for MODE=ingest"),
        ({"MODE": "ingest", "ENV": "dev"}, "SERVICE is required for MODE=ingest"),
        ({"MODE": "ingest", "SERVICE": SERVICE}, "ENV is required for MODE=ingest"),
        ({**INGEST, "ENV": ""}, "ENV is required for MODE=ingest"),
        ({**INGEST, "ENV": "staging"}, "ENV=staging is not dev or prd"),
        ({**INGEST, "DRY_RUN": "maybe"}, "DRY_RUN=maybe is not a boolean"),
        ({**INGEST, "LOG_LEVEL": "loud"}, "LOG_LEVEL=loud is not one of"),
        ({**INGEST, "CLOUD_RUN_JOB": "ingestor-ingest"}, "GCP_PROJECT_ID (or INGESTOR_WAREHOUSE) is required"),
        ({"MODE": "fetch"}, "SERVICE is required for MODE=fetch"),
        ({"MODE": "status"}, "ENV is required for MODE=status"),
        ({"MODE": "rebuild", "ENV": "dev"}, "SERVICE is required for MODE=rebuild"),
        ({"MODE": "rebuild", "SERVICE": SERVICE}, "ENV is required for MODE=rebuild"),
        ({"MODE": "rebuild", "SERVICE": "garmin,chess", "ENV": "dev"}, "MODE=rebuild takes one service"),
        ({"MODE": "rebuild", "SERVICE": SERVICE, "ENV": "dev", "DRY_RUN": "hmm"}, "DRY_RUN=hmm is not a boolean"),
        ({"MODE": "status", "ENV": "qa"}, "ENV=qa is not dev or prd"),
        ({"MODE": "status", "ENV": "dev", "CLOUD_RUN_JOB": "s"}, "GCP_PROJECT_ID (or INGESTOR_WAREHOUSE) is required"),
        ({"MODE": "fetch", "SERVICE": "garmin", "DAYS": "seven"}, "DAYS=seven is not a whole number"),
        ({"MODE": "fetch", "SERVICE": "garmin", "LIMIT": "-1"}, "LIMIT=-1 is not a whole number"),
        ({"MODE": "fetch", "SERVICE": "garmin", "DRY_RUN": "sure"}, "DRY_RUN=sure is not a boolean"),
        ({"MODE": "fetch", "SERVICE": "garmin", "CLOUD_RUN_JOB": "fetch"}, "DESTINATION is required in a Cloud Run"),
    ],
)
def test_usage_errors_exit_2_naming_the_problem(fake_env, entrypoint, variables, message):
    proc = entrypoint(fake_env, **variables)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert proc.stderr.startswith("docker-entrypoint: ")
    assert not Path(fake_env["FAKE_INGESTOR_OUT"]).exists(), "the ingestor must not start"


def test_unknown_service_exits_2_from_the_ingestor(base_env, entrypoint):
    proc = entrypoint(base_env, **{**INGEST, "SERVICE": "nosuchservice"})
    assert proc.returncode == 2
    assert "unknown service 'nosuchservice'" in proc.stderr
    assert SERVICE in proc.stderr  # the installed services are listed


def test_unknown_data_type_exits_2_from_the_ingestor(base_env, entrypoint):
    proc = entrypoint(base_env, **INGEST, DATA_TYPES="events,nosuchtype")
    assert proc.returncode == 2
    assert "unknown data type 'nosuchtype'" in proc.stderr


# --- MODE=ingest with the real ingestor ----------------------------------------------------


def test_dry_run_on_an_empty_landing_zone_prints_the_json_result(base_env, entrypoint, data_dir):
    proc = entrypoint(base_env, **INGEST, DRY_RUN="true")
    assert proc.returncode == 0, proc.stderr
    result = result_of(proc)
    assert result["dry_run"] is True
    assert result["services"] == [SERVICE]
    assert result["env"] == "dev"
    assert result["files"] == []
    assert result["success"] is True
    assert not (data_dir / "warehouse_dev.duckdb").exists(), "a dry run writes nothing"


def test_ingest_loads_archives_and_reports(base_env, entrypoint, land, data_dir, landing_files, sql):
    land("events", rows=3)
    land("things", rows=2)
    proc = entrypoint(base_env, **INGEST)
    assert proc.returncode == 0, proc.stderr
    result = result_of(proc)
    assert result["dry_run"] is False
    assert result["totals"]["loaded"] == 2
    assert result["totals"]["rows"] == 5
    root = data_dir / "ela-dp-dev" / SERVICE
    assert landing_files(root / "landing") == []
    assert len(landing_files(root / "archive")) == 2
    database = data_dir / "warehouse_dev.duckdb"
    assert sql(database, "SELECT count(*) FROM dtest_dev.events") == [(3,)]
    assert sql(database, "SELECT count(*) FROM dtest_dev.things") == [(2,)]


@pytest.mark.parametrize("value", ["true", "TRUE", "True", "1", "yes"])
def test_dry_run_true_writes_nothing(base_env, entrypoint, land, data_dir, landing_files, value):
    land("events")
    proc = entrypoint(base_env, **INGEST, DRY_RUN=value)
    assert proc.returncode == 0, proc.stderr
    result = result_of(proc)
    assert result["dry_run"] is True
    assert [f["status"] for f in result["files"]] == ["planned"]
    assert len(landing_files(data_dir / "ela-dp-dev" / SERVICE / "landing")) == 1
    assert not (data_dir / "warehouse_dev.duckdb").exists()


@pytest.mark.parametrize("value", ["false", "FALSE", "0", "no", ""])
def test_dry_run_false_loads(base_env, entrypoint, land, value):
    land("events")
    proc = entrypoint(base_env, **INGEST, DRY_RUN=value)
    assert proc.returncode == 0, proc.stderr
    assert result_of(proc)["totals"]["loaded"] == 1


def test_data_types_restricts_the_run(base_env, entrypoint, land, data_dir, landing_files):
    land("events")
    land("things")
    land("places")
    proc = entrypoint(base_env, **INGEST, DATA_TYPES="events, places")
    assert proc.returncode == 0, proc.stderr
    result = result_of(proc)
    assert result["data_types"] == ["events", "places"]
    assert sorted(f["data_type"] for f in result["files"]) == ["events", "places"]
    assert landing_files(data_dir / "ela-dp-dev" / SERVICE / "landing") == [f"2025_01_01_06_00_{SERVICE}_things.jsonl"]


def test_env_prd_uses_the_prd_landing_zone_and_warehouse(base_env, entrypoint, land, data_dir):
    land("events", env="dev")
    land("events", env="prd", rows=4)
    proc = entrypoint(base_env, **{**INGEST, "ENV": "prd"})
    assert proc.returncode == 0, proc.stderr
    result = result_of(proc)
    assert result["env"] == "prd"
    assert result["totals"]["rows"] == 4
    assert (data_dir / "warehouse_prd.duckdb").exists()
    assert not (data_dir / "warehouse_dev.duckdb").exists()


def test_several_services_as_a_comma_list(base_env, entrypoint):
    proc = entrypoint(base_env, **{**INGEST, "SERVICE": f"{SERVICE}, {SERVICE}"}, DRY_RUN="true")
    assert proc.returncode == 0, proc.stderr
    assert set(result_of(proc)["services"]) == {SERVICE}


@pytest.mark.parametrize(
    ("level", "info_shown"),
    [("debug", True), ("info", True), ("Info", True), ("warning", False), ("warn", False), ("error", False)],
)
def test_log_level_in_any_case(base_env, entrypoint, land, level, info_shown):
    land("events")
    proc = entrypoint(base_env, **INGEST, LOG_LEVEL=level, INGESTOR_LOG_FORMAT="json")
    assert proc.returncode == 0, proc.stderr
    logs = [json.loads(line) for line in proc.stderr.splitlines() if line.strip()]
    loaded = [e for e in logs if "events.jsonl: loaded" in e["message"]]
    assert bool(loaded) is info_shown, proc.stderr
    assert all(e["severity"] == "INFO" for e in loaded)


def test_json_logs_go_to_stderr_and_the_result_to_stdout(base_env, entrypoint, land):
    land("events")
    proc = entrypoint(base_env, **INGEST, INGESTOR_LOG_FORMAT="json")
    assert proc.returncode == 0, proc.stderr
    result_of(proc)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines, "expected a log line per file"
    for line in lines:
        entry = json.loads(line)
        assert {"severity", "message", "time", "logger"} <= set(entry)


def test_ingestor_variables_pass_through(base_env, entrypoint, land, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    base_env = {**base_env, "INGESTOR_DATA_DIR": str(other)}
    proc = entrypoint(base_env, **INGEST, INGESTOR_BUCKET="my-bucket", DRY_RUN="true")
    assert proc.returncode == 0, proc.stderr
    assert result_of(proc)["landing"] == (other / "my-bucket").as_uri()


def test_a_rejected_file_exits_1(base_env, entrypoint, land, data_dir):
    path = land("events")
    path.write_text('{"id": 1}\nnot json\n')
    proc = entrypoint(base_env, **INGEST)
    assert proc.returncode == 1, proc.stderr
    assert result_of(proc)["success"] is False


# --- the exact commands (fake ingestor) ----------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (INGEST, ["run", "--service", SERVICE, "--env", "dev", "--json"]),
        (
            {
                **INGEST,
                "SERVICE": "garmin,spotify",
                "ENV": "prd",
                "DATA_TYPES": "sleep,steps",
                "DRY_RUN": "true",
                "LOG_LEVEL": "debug",
            },
            [
                "run",
                "--service",
                "garmin,spotify",
                "--env",
                "prd",
                "--json",
                "--data-types",
                "sleep,steps",
                "--dry-run",
                "--log-level",
                "DEBUG",
            ],
        ),
        ({**INGEST, "MODE": "INGEST", "DRY_RUN": "false"}, ["run", "--service", SERVICE, "--env", "dev", "--json"]),
        (
            {**INGEST, "ENV": "prd", "GCP_PROJECT_ID": "my-proj"},
            [
                "run",
                "--service",
                SERVICE,
                "--env",
                "prd",
                "--json",
                "--warehouse",
                "bigquery://my-proj",
                "--landing",
                "gs://ela-dp-prd",
            ],
        ),
        (
            {**INGEST, "GCP_PROJECT_ID": "my-proj", "INGESTOR_BUCKET": "other-bucket", "CLOUD_RUN_JOB": "j"},
            [
                "run",
                "--service",
                SERVICE,
                "--env",
                "dev",
                "--json",
                "--warehouse",
                "bigquery://my-proj",
                "--landing",
                "gs://other-bucket",
            ],
        ),
        (
            {**INGEST, "GCP_PROJECT_ID": "my-proj", "INGESTOR_WAREHOUSE": "bigquery://x", "INGESTOR_LANDING": "gs://y"},
            ["run", "--service", SERVICE, "--env", "dev", "--json"],
        ),
        (
            {**INGEST, "CLOUD_RUN_JOB": "j", "INGESTOR_WAREHOUSE": "bigquery://x"},
            ["run", "--service", SERVICE, "--env", "dev", "--json"],
        ),
        ({"MODE": "fetch", "SERVICE": "garmin"}, ["fetch", "--service", "garmin", "--json"]),
        ({"MODE": "status", "ENV": "dev"}, ["status", "--env", "dev", "--json"]),
        (
            {
                "MODE": "Status",
                "ENV": "prd",
                "SERVICE": "garmin",
                "GCP_PROJECT_ID": "p",
                "NOTIFY": "ntfy://t o/p",
                "NOTIFY_ON": "stale",
                "DRY_RUN": "true",
                "DATA_TYPES": "ignored",
            },
            [
                "status",
                "--env",
                "prd",
                "--json",
                "--service",
                "garmin",
                "--warehouse",
                "bigquery://p",
                "--landing",
                "gs://ela-dp-prd",
                "--notify",
                "ntfy://t o/p",
                "--notify-on",
                "stale",
            ],
        ),
        (
            {
                **INGEST,
                "NOTIFY": "json://h/a, mailto://u:p@h",
                "METRICS_PUSH": "http://gw:9091",
                "METRICS_FILE": "/var/lib/node_exporter/ingestor.prom",
            },
            [
                *RUN,
                "--notify",
                "json://h/a, mailto://u:p@h",
                "--metrics-push",
                "http://gw:9091",
                "--metrics-file",
                "/var/lib/node_exporter/ingestor.prom",
            ],
        ),
        (
            {
                "MODE": "Fetch",
                "SERVICE": "garmin",
                "SCOPE": "sleep,steps",
                "DESTINATION": "gs://ela-dp-dev",
                "DAYS": "7",
                "LIMIT": "100",
                "ENV": "dev",
                "DRY_RUN": "true",
                "LOG_LEVEL": "error",
            },
            [
                "fetch",
                "--service",
                "garmin",
                "--json",
                "--data-types",
                "sleep,steps",
                "--landing",
                "gs://ela-dp-dev",
                "--days",
                "7",
                "--limit",
                "100",
                "--env",
                "dev",
                "--dry-run",
                "--log-level",
                "ERROR",
            ],
        ),
        (
            {
                "MODE": "fetch",
                "SERVICE": "spotify,chess",
                "DESTINATION": "gs://b",
                "DAYS": "",
                "LIMIT": "",
                "DATA_TYPES": "ignored",
                "DRY_RUN": "no",
                "CLOUD_RUN_JOB": "fetch",
            },
            ["fetch", "--service", "spotify,chess", "--json", "--landing", "gs://b"],
        ),
        (
            {"MODE": "fetch", "SERVICE": "chess", "CLOUD_RUN_JOB": "fetch", "INGESTOR_LANDING": "gs://c"},
            ["fetch", "--service", "chess", "--json"],
        ),
        (
            {
                "MODE": "rebuild",
                "SERVICE": "garmin",
                "ENV": "prd",
                "DATA_TYPES": "sleep",
                "DRY_RUN": "true",
                "GCP_PROJECT_ID": "p",
                "NOTIFY": "json://ignored",
                "METRICS_FILE": "/ignored",
            },
            [
                "rebuild",
                "--service",
                "garmin",
                "--env",
                "prd",
                "--json",
                "--data-types",
                "sleep",
                "--dry-run",
                "--warehouse",
                "bigquery://p",
                "--landing",
                "gs://ela-dp-prd",
            ],
        ),
    ],
)
def test_variables_map_to_the_ingestor_command(fake_env, entrypoint, recorded, variables, expected):
    proc = entrypoint(fake_env, **variables)
    assert proc.returncode == 0, proc.stderr
    assert recorded(fake_env)["argv"] == expected


@pytest.mark.parametrize(("given", "exported"), [("debug", "DEBUG"), ("Warn", "WARNING"), ("error", "ERROR")])
def test_log_level_reaches_every_command_upper_case(fake_env, entrypoint, recorded, given, exported):
    for variables in ({"MODE": "fetch", "SERVICE": "garmin"}, {}):
        proc = entrypoint(fake_env, *([] if variables else ["list-types"]), LOG_LEVEL=given, **variables)
        assert proc.returncode == 0, proc.stderr
        assert recorded(fake_env)["log_level"] == exported


def test_fetch_flags_match_the_fetch_command(base_env):
    """Each flag the entrypoint passes to `ingestor fetch` is one the real command knows."""
    proc = subprocess.run(["ingestor", "fetch", "--help"], env=base_env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip("this ingestor has no `fetch` command yet")
    used = {word for word in ENTRYPOINT.read_text().split() if word.startswith("--")}
    fetch_block = ENTRYPOINT.read_text().split("    fetch)", 1)[1].split(";;\n    '')", 1)[0]
    for flag in sorted(w for w in used if w in fetch_block):
        assert flag in proc.stdout, f"`ingestor fetch` has no {flag}"


@pytest.mark.parametrize("command", ["run", "status", "rebuild"])
def test_ingest_status_and_rebuild_flags_match_the_commands(base_env, command):
    """Each flag the entrypoint passes for MODE=ingest/status/rebuild is one `ingestor run`, `ingestor status` or
    `ingestor rebuild` knows."""
    helps = {
        c: subprocess.run(["ingestor", c, "--help"], env={**base_env, "COLUMNS": "200"}, capture_output=True,
                          text=True, check=True).stdout
        for c in ("run", "status", "rebuild")
    }  # fmt: skip
    block = ENTRYPOINT.read_text().split("    ingest | status | rebuild)", 1)[1].split(";;", 1)[0]
    flags = {w.strip('"') for w in block.split() if w.startswith(("--", '"--'))}
    not_for = {
        "status": {"--data-types", "--dry-run"},
        "rebuild": {"--notify", "--notify-on", "--metrics-push", "--metrics-file"},
    }
    for flag in sorted(flags):
        if flag not in not_for.get(command, set()):
            assert flag in helps[command], f"`ingestor {command}` has no {flag}"


def test_status_mode_with_the_real_ingestor(base_env, entrypoint, land, tmp_path):
    land("events")
    metrics = tmp_path / "ingestor.prom"
    assert entrypoint(base_env, **INGEST, METRICS_FILE=str(metrics)).returncode == 0
    assert "ingestor_run_files" in metrics.read_text()
    proc = entrypoint(base_env, MODE="status", ENV="dev", SERVICE=SERVICE)
    assert proc.returncode == 0, proc.stderr
    events = next(t for t in result_of(proc)["types"] if t["data_type"] == "events")
    assert events["last_file"].startswith(f"{SERVICE}/landing/") and events["rows_recent"] == 2


def test_rebuild_mode_with_the_real_ingestor(base_env, entrypoint, land, data_dir, sql):
    land("events", rows=3)
    assert entrypoint(base_env, **INGEST).returncode == 0
    database = data_dir / "warehouse_dev.duckdb"
    plan = entrypoint(base_env, MODE="rebuild", SERVICE=SERVICE, ENV="dev", DRY_RUN="true")
    assert plan.returncode == 0, plan.stderr
    assert result_of(plan)["dry_run"] is True
    proc = entrypoint(base_env, MODE="rebuild", SERVICE=SERVICE, ENV="dev")
    assert proc.returncode == 0, proc.stderr
    events = next(t for t in result_of(proc)["types"] if t["data_type"] == "events")
    assert (events["files_in_archive"], events["rows_before"], events["rows_after"]) == (1, 3, 3)
    assert sql(database, "SELECT count(*) FROM dtest_dev.events") == [(3,)]


def test_fetch_with_the_real_ingestor_checks_the_service(base_env, entrypoint, tmp_path):
    proc = entrypoint(base_env, MODE="fetch", SERVICE="nosuchservice", DESTINATION=(tmp_path / "l").as_uri())
    if "No such command 'fetch'" in proc.stderr:
        pytest.skip("this ingestor has no `fetch` command yet")
    assert proc.returncode == 2, proc.stderr
    assert "unknown service 'nosuchservice'" in proc.stderr


# --- container arguments -------------------------------------------------------------------


def test_container_args_run_as_an_ingestor_command(base_env, entrypoint, dtest_types):
    proc = entrypoint(base_env, "list-types", "--json")
    assert proc.returncode == 0, proc.stderr
    types = json.loads(proc.stdout)
    assert sorted(t["name"] for t in types) == sorted(dtest_types)
    assert {t["target"] for t in types} >= {"dtest_dev.events"}


def test_container_args_may_start_with_ingestor(base_env, entrypoint):
    proc = entrypoint(base_env, "ingestor", "plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "ingestor-dockertest" in {row["distribution"] for row in json.loads(proc.stdout)}


def test_container_args_win_over_mode(fake_env, entrypoint, recorded):
    proc = entrypoint(fake_env, "run", "--service", "x", "--env", "staging", MODE="fetch")
    assert proc.returncode == 0, proc.stderr
    assert recorded(fake_env)["argv"] == ["run", "--service", "x", "--env", "staging"]


def test_container_args_keep_their_words(fake_env, entrypoint, recorded):
    proc = entrypoint(fake_env, "run", "--data-types", "a b", "--landing", "file:///x y/*")
    assert proc.returncode == 0, proc.stderr
    assert recorded(fake_env)["argv"] == ["run", "--data-types", "a b", "--landing", "file:///x y/*"]


def test_container_args_exit_code_is_the_ingestors(base_env, entrypoint):
    proc = entrypoint(base_env, "list-types", "--service", "nosuchservice")
    assert proc.returncode == 2
    assert "unknown service" in proc.stderr


# --- exec: same process, signals reach the ingestor ----------------------------------------


def wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("variables", [INGEST, {"MODE": "fetch", "SERVICE": "garmin"}, {}])
def test_sigterm_reaches_the_ingestor_in_the_same_process(fake_env, variables, recorded):
    """The entrypoint execs: the ingestor keeps the entrypoint's PID, so Cloud Run's SIGTERM reaches it."""
    out = Path(fake_env["FAKE_INGESTOR_OUT"])
    args = [] if variables else ["run", "--service", "x"]
    proc = subprocess.Popen(
        [str(ENTRYPOINT), *args],
        env={**fake_env, **variables, "FAKE_INGESTOR_WAIT": "60"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(out)
        assert recorded(fake_env)["pid"] == proc.pid, "the ingestor must replace the entrypoint (exec)"
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 128 + signal.SIGTERM
        assert Path(f"{out}.signal").read_text() == "SIGTERM"
    finally:
        proc.kill()
        proc.communicate()


def test_sigterm_stops_the_real_ingestor(base_env, tmp_path):
    """The real ingestor, held inside its plugin's hook: it runs under the entrypoint's PID and
    SIGTERM ends it (as Python's default: the image's init, dumb-init, relays Cloud Run's signal)."""
    hold = tmp_path / "hold"
    proc = subprocess.Popen(
        [str(ENTRYPOINT)],
        env={**base_env, **INGEST, "DTEST_HOLD": str(hold)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(Path(f"{hold}.ready"))
        assert Path(f"{hold}.ready").read_text() == str(proc.pid), "the ingestor must replace the entrypoint (exec)"
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert any(part.endswith(b"/ingestor") for part in cmdline), cmdline
        assert b"run" in cmdline and b"--json" in cmdline
        os.kill(proc.pid, signal.SIGTERM)
        # killed by the signal, or (where the ingestor handles SIGTERM) its exit code 143
        assert proc.wait(timeout=30) in {-signal.SIGTERM, 128 + signal.SIGTERM}
    finally:
        proc.kill()
        proc.communicate()


# --- PID 1: why the image's ENTRYPOINT starts with dumb-init ------------------------------


def pid_namespace_init(fake_env: dict[str, str], *command: str) -> tuple[subprocess.Popen[str], int]:
    """Run `command` as PID 1 of a new PID namespace (as in a container); return (unshare, its host pid)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare for a PID namespace")
    proc = subprocess.Popen(
        ["unshare", "--pid", "--fork", "--kill-child", *command],
        env=fake_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    deadline = time.monotonic() + 30
    while not children.read_text().split():
        if proc.poll() is not None:
            pytest.skip(f"unshare failed here: {proc.communicate()[1].strip()}")
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return proc, int(children.read_text().split()[0])


def test_as_pid_1_dumb_init_relays_sigterm_to_the_ingestor(fake_env):
    dumb_init = shutil.which("dumb-init", path=fake_env["PATH"])
    if not dumb_init:
        pytest.skip("dumb-init not installed (the image and `nox -s image_env` have it)")
    out = Path(fake_env["FAKE_INGESTOR_OUT"])
    fake_env = {**fake_env, "FAKE_INGESTOR_WAIT": "60", **INGEST}
    proc, init = pid_namespace_init(fake_env, dumb_init, "--", str(ENTRYPOINT))
    try:
        wait_for(out)
        os.kill(init, signal.SIGTERM)  # what the container runtime does
        assert proc.wait(timeout=30) == 128 + signal.SIGTERM
        assert Path(f"{out}.signal").read_text() == "SIGTERM"
    finally:
        proc.kill()
        proc.communicate()


def test_as_pid_1_without_an_init_sigterm_is_lost(fake_env):
    """The kernel drops a signal sent to a PID 1 that has no handler for it: a Python program as PID 1
    (no SIGTERM handler) would run on until SIGKILL. Hence dumb-init in the image."""
    out = Path(fake_env["FAKE_INGESTOR_OUT"])
    fake_env = {**fake_env, "FAKE_INGESTOR_WAIT": "60", "FAKE_INGESTOR_NO_HANDLER": "1", **INGEST}
    proc, init = pid_namespace_init(fake_env, str(ENTRYPOINT))
    try:
        wait_for(out)
        os.kill(init, signal.SIGTERM)
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=1.5)
    finally:
        proc.kill()
        proc.communicate()
