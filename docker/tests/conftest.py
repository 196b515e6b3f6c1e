"""Fixtures for the entrypoint tests: the real `ingestor` on PATH, a tiny plugin it autoloads,
a fake `ingestor` that records how it was called, and a tmp embedded default (folder + DuckDB)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DOCKER = Path(__file__).resolve().parents[1]
ENTRYPOINT = DOCKER / "docker-entrypoint.sh"
SERVICE = "dtest"
TYPES = ("events", "things", "places", "people", "moods", "notes", "trips", "books")

# Variables the entrypoint reads, cleared so the caller's environment cannot leak in.
ENTRYPOINT_VARS = (
    "MODE",
    "SERVICE",
    "ENV",
    "DATA_TYPES",
    "DRY_RUN",
    "LOG_LEVEL",
    "SCOPE",
    "DESTINATION",
    "DAYS",
    "LIMIT",
    "GCP_PROJECT_ID",
    "CLOUD_RUN_JOB",
    "CLOUD_RUN_TASK_INDEX",
    "CLOUD_RUN_TASK_COUNT",
    "NOTIFY",
    "NOTIFY_ON",
    "METRICS_PUSH",
    "METRICS_FILE",
)

PLUGIN = f'''
"""A tiny plugin for the docker tests: service {SERVICE!r}, one table per data type."""
import os
import time

from ingestor import DataType, Service, hookimpl


@hookimpl
def services():
    hold = os.environ.get("DTEST_HOLD")
    if hold:  # tests of signals: say "ready" (with the pid), then wait to be stopped
        with open(hold + ".ready.tmp", "w") as f:
            f.write(str(os.getpid()))
        os.replace(hold + ".ready.tmp", hold + ".ready")
        time.sleep(60)
    return [Service(data_types=[DataType(service={SERVICE!r}, name=name, dataset="dtest_{{env}}", table=name)
                                for name in {TYPES!r}])]
'''

FAKE_INGESTOR = '''
"""Stands in for `ingestor`: records its pid, arguments and LOG_LEVEL, then maybe waits."""
import json, os, signal, sys, time

out = os.environ["FAKE_INGESTOR_OUT"]


def on_term(signum, frame):
    with open(out + ".signal", "w") as f:
        f.write(signal.Signals(signum).name)
    sys.exit(128 + signum)


if not os.environ.get("FAKE_INGESTOR_NO_HANDLER"):
    signal.signal(signal.SIGTERM, on_term)
with open(out + ".tmp", "w") as f:
    json.dump({"pid": os.getpid(), "argv": sys.argv[1:], "log_level": os.environ.get("LOG_LEVEL")}, f)
os.replace(out + ".tmp", out)
if os.environ.get("FAKE_INGESTOR_WAIT"):
    time.sleep(float(os.environ["FAKE_INGESTOR_WAIT"]))
'''


def ingestor_bin_dir() -> Path:
    """The folder of the `ingestor` under test: INGESTOR_BIN_DIR, else this interpreter's."""
    chosen = os.environ.get("INGESTOR_BIN_DIR")
    folder = Path(chosen) if chosen else Path(sys.executable).parent
    if not (folder / "ingestor").exists():
        found = shutil.which("ingestor")
        if not found:
            pytest.skip("no `ingestor` installed")
        folder = Path(found).parent
    return folder


@pytest.fixture(scope="session")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for PYTHONPATH holding a module and a dist-info that declares its entry point."""
    root = tmp_path_factory.mktemp("plugin")
    (root / "ingestor_dockertest.py").write_text(PLUGIN)
    info = root / "ingestor_dockertest-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ingestor-dockertest\nVersion: 0.0.1\n")
    (info / "entry_points.txt").write_text(f"[ingestor]\n{SERVICE} = ingestor_dockertest\n")
    return root


@pytest.fixture
def dtest_types() -> tuple[str, ...]:
    """The data types of the test plugin's service `dtest`."""
    return TYPES


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The embedded default's folder (landing zone `ela-dp-{env}/`, `warehouse_{env}.duckdb`)."""
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def base_env(plugin_dir: Path, data_dir: Path, tmp_path: Path) -> dict[str, str]:
    """The environment of one container run: real ingestor, only the test plugin, tmp data dir."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ENTRYPOINT_VARS and not k.startswith(("INGESTOR_", "FAKE_INGESTOR_"))
    }
    env["PATH"] = f"{ingestor_bin_dir()}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(plugin_dir)
    env["INGESTOR_LOAD_PLUGINS"] = "ingestor-dockertest"
    env["INGESTOR_STRICT_PLUGINS"] = "1"
    env["INGESTOR_DATA_DIR"] = str(data_dir)
    env["HOME"] = str(tmp_path)
    return env


@pytest.fixture
def fake_env(base_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """`base_env` with a fake `ingestor` first on PATH, recording into FAKE_INGESTOR_OUT."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    fake = bin_dir / "ingestor"
    fake.write_text(f"#!{sys.executable}\n{textwrap.dedent(FAKE_INGESTOR)}")
    fake.chmod(0o755)
    return {
        **base_env,
        "PATH": f"{bin_dir}{os.pathsep}{base_env['PATH']}",
        "FAKE_INGESTOR_OUT": str(tmp_path / "fake-call.json"),
    }


def _entrypoint(
    env: dict[str, str], *args: str, timeout: float = 120, **variables: str
) -> subprocess.CompletedProcess[str]:
    """Run the entrypoint as the container would, with `variables` added to `env`."""
    return subprocess.run(
        [str(ENTRYPOINT), *args], env={**env, **variables}, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def entrypoint() -> Callable[..., subprocess.CompletedProcess[str]]:
    """entrypoint(env, *container_args, VAR=value, ...) -> CompletedProcess (text)."""
    return _entrypoint


@pytest.fixture
def recorded() -> Callable[[dict[str, str]], dict[str, Any]]:
    """recorded(env): the pid, arguments and LOG_LEVEL the fake ingestor was called with."""
    return lambda env: json.loads(Path(env["FAKE_INGESTOR_OUT"]).read_text())


@pytest.fixture
def land(data_dir: Path) -> Callable[..., Path]:
    """land(data_type, rows=2, env="dev", day=1): write a landing file of the test service."""

    def write(data_type: str, rows: int = 2, env: str = "dev", day: int = 1) -> Path:
        name = f"2025_01_{day:02d}_06_00_{SERVICE}_{data_type}.jsonl"
        path = data_dir / f"ela-dp-{env}" / SERVICE / "landing" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps({"id": i, "day": day, "kind": data_type}) + "\n" for i in range(rows)))
        return path

    return write


def files_under(root: Path) -> list[str]:
    """Relative paths of the files under a folder, sorted ([] when it does not exist)."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    """Run SQL on a DuckDB file, read-only."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def landing_files() -> Callable[[Path], list[str]]:
    """landing_files(folder): relative paths of the files under it, sorted."""
    return files_under


@pytest.fixture
def sql() -> Callable[[Path, str], list[tuple[Any, ...]]]:
    """sql(database, query): rows of a read-only query on a DuckDB file."""
    return query
