"""Fault-injection harness: the real `ingestor run` in a subprocess, with a test plugin installed through a real
entry point, stopped at precise points (a `fault`, armed by `launch.py`, see ingestor/run/faults.py) or by signals; and
the checks of the promise: every landing file in exactly one place, every valid record in the warehouse exactly once."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
import types
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

SERVICE = "fz"
DIST = "ingestor-fz"
PLUGIN = '''
"""Service `fz`: two plain data types, events and metrics (a fault-injection test plugin)."""
from ingestor import DataType, Service, hookimpl


@hookimpl
def services():
    return [Service(data_types=[DataType(service="fz", name="events", dataset="fz_{env}", table="events"),
                                DataType(service="fz", name="metrics", dataset="fz_{env}", table="metrics")])]
'''
TIMEOUT = 60.0
LAUNCH = Path(__file__).with_name("launch.py")


def ingestor_command(fault: str | None = None) -> list[str]:
    """How to start the `ingestor` command: `python -m ingestor`, or through `launch.py` with `fault`
    (`point[:n[:SIGNAL]]`) armed."""
    if fault is None:
        return [sys.executable, "-m", "ingestor"]
    return [sys.executable, str(LAUNCH), fault, "--"]


def plugin_module() -> types.ModuleType:
    """The same plugin as an in-process module (for `ingestor.testing.Harness`)."""
    module = types.ModuleType("fz_plugin_inprocess")
    exec(compile(PLUGIN, "fz_plugin", "exec"), module.__dict__)  # our own constant source
    return module


def install_plugin(site: Path) -> None:
    """A real distribution `ingestor-fz` (module + dist-info with an `ingestor` entry point) in `site`."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "fz_plugin.py").write_text(PLUGIN)
    info = site / "ingestor_fz-0.0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DIST}\nVersion: 0.0.1\n")
    (info / "entry_points.txt").write_text("[ingestor]\nfz = fz_plugin\n")


@dataclass
class Expect:
    """What a landing zone must end as: valid files with their record ids, files that must be rejected."""

    valid: dict[str, list[int]] = field(default_factory=dict)  # name below landing/ -> uids ([] = empty file)
    rejected: set[str] = field(default_factory=set)


def ndjson(records: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


class Zone:
    """A landing zone + DuckDB file under `root`, and `ingestor run` on it as a real process."""

    def __init__(self, root: Path, site: Path) -> None:
        self.root = root
        self.landing = root / "ela-dp-dev"
        self.database = root / "warehouse_dev.duckdb"
        self.site = site
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.expect = Expect()
        self._uid = 0

    # -- landing -------------------------------------------------------------------------------------------------
    def land(self, relative: str, data: bytes) -> Path:
        path = self.landing / SERVICE / "landing" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def land_valid(self, relative: str, n: int, **extra: Any) -> list[int]:
        """A valid file of `n` records with fresh uids (gzip if `.gz`)."""
        uids = list(range(self._uid, self._uid + n))
        self._uid += n
        data = ndjson({"uid": u, "v": f"value {u}", **extra} for u in uids)
        self.land(relative, gzip.compress(data) if relative.endswith(".gz") else data)
        self.expect.valid[relative] = uids
        return uids

    def land_rejected(self, relative: str, data: bytes) -> None:
        self.land(relative, data)
        self.expect.rejected.add(relative)

    def standard_corpus(self) -> None:
        """Two data types, sub-folders, gzip, a malformed file, an empty file and an unknown file: 7 moves."""
        self.land_valid("2025_01_01_fz_events.jsonl", 3)
        self.land_valid("sub/2025_01_02_fz_events.jsonl.gz", 2)
        self.land_rejected("2025_01_03_fz_events.jsonl", b'{"uid": -1}\n{"uid": \n')
        self.land_valid("2025_01_04_fz_events.jsonl", 0)
        self.land_valid("2025_01_01_fz_metrics.jsonl", 4)
        self.land_valid("2025_01_02_fz_metrics.jsonl", 1)
        self.land_rejected("notes.txt", b"not a data file\n")

    # -- running -------------------------------------------------------------------------------------------------
    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INGESTOR_", "CLOUD_RUN_"))}
        env.update(
            PYTHONPATH=os.pathsep.join([str(self.site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            INGESTOR_LOAD_PLUGINS=DIST,
            INGESTOR_STRICT_PLUGINS="1",
            TMPDIR=str(self.tmp),
            PYTHONUNBUFFERED="1",
            **extra,
        )
        return env

    def command(self, *args: str, fault: str | None = None) -> list[str]:
        return [
            *ingestor_command(fault),
            "run",
            "--service",
            SERVICE,
            "--env",
            "dev",
            "--data-dir",
            str(self.root),
            "--json",
            *args,
        ]

    def start(self, *args: str, fault: str | None = None, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args, fault=fault),
            cwd=self.root,
            env=self.env(**env),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def run(self, *args: str, fault: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args, fault=fault),
            cwd=self.root,
            env=self.env(**env),
            text=True,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )

    def run_to_completion(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """A run with no fault, which must end normally (0, or 1 when files were rejected)."""
        done = self.run(*args, **env)
        assert done.returncode in (0, 1), done.stderr[-3000:]
        return done

    # -- looking -------------------------------------------------------------------------------------------------
    def files(self, folder: str = "") -> list[str]:
        base = self.landing / SERVICE / folder
        if not base.exists():
            return []
        return sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file() or p.is_symlink())

    def query(self, sql: str, database: Path | None = None) -> list[tuple[Any, ...]]:
        path = database or self.database
        if not path.exists():
            return []
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def tables(self, database: Path | None = None) -> set[str]:
        return {
            r[0]
            for r in self.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'fz_dev'", database
            )
        }

    def rows(self, database: Path | None = None) -> list[tuple[int, str]]:
        """(uid, _source_file) of every row of both tables."""
        found: list[tuple[int, str]] = []
        for table in ("events", "metrics"):
            if table in self.tables(database):
                found += self.query(f"SELECT uid, _source_file FROM fz_dev.{table}", database)
        return found

    def ledger(self, database: Path | None = None) -> list[tuple[str, int]]:
        if "_ingestor_ledger" not in self.tables(database):
            return []
        return self.query("SELECT source_name, rows FROM fz_dev._ingestor_ledger ORDER BY source_name", database)

    def check(self, databases: list[Path] | None = None) -> None:
        """The promise, after a run that completed: nothing lost, nothing twice, ledger = table."""
        databases = databases or [self.database]
        prefix = f"{SERVICE}/landing/"
        assert [f for f in self.files("landing") if not f.rsplit("/", 1)[-1].startswith(".")] == []
        archive, rejected = set(self.files("archive")), set(self.files("rejected"))
        for name in self.expect.valid:
            assert name in archive and name not in rejected, (name, archive, rejected)
        for name in self.expect.rejected:
            assert name in rejected and f"{name}.reason.json" in rejected and name not in archive, (name, rejected)
        # nothing else, in particular no `__2` copy of a file moved twice
        assert archive == set(self.expect.valid), archive
        assert rejected == self.expect.rejected | {f"{n}.reason.json" for n in self.expect.rejected}, rejected
        rows = [row for db in databases for row in self.rows(db)]
        counts = Counter(uid for uid, _ in rows)
        duplicated = {uid: n for uid, n in counts.items() if n > 1}
        wanted = {uid: prefix + name for name, uids in self.expect.valid.items() for uid in uids}
        lost = set(wanted) - set(counts)
        assert not duplicated and not lost, f"duplicated {duplicated}, lost {sorted(lost)}"
        assert dict(rows) == wanted  # each row from its own file, and no stray row
        ledger = [entry for db in databases for entry in self.ledger(db)]
        assert Counter(name for name, _ in ledger) == Counter(prefix + n for n, u in self.expect.valid.items() if u)
        per_file = Counter(source for _, source in rows)
        assert {name: n for name, n in ledger} == dict(per_file)
        assert not (self.landing / SERVICE / "_state" / "lease.json").exists(), "lease not released"


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("site")
    install_plugin(path)
    return path


@pytest.fixture
def zone(tmp_path: Path, site: Path) -> Zone:
    return Zone(tmp_path, site)


def wait_stopped(process: subprocess.Popen[str], timeout: float = TIMEOUT) -> None:
    """Wait until `process` stopped itself (SIGSTOP at a fault point); fail if it ended instead."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"ended with {process.returncode} instead of stopping: {process.stderr.read()[-2000:]}"
            )
        state = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "T":
            return
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the process did not reach its stop point in time")
