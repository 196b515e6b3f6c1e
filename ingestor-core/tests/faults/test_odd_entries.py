"""Odd entries in a local landing zone, each beside good files of both data types in one real run: a name that is
not UTF-8, paths past the system's limits, a folder the run cannot read, what is not a regular file, hidden
folders. None stops the run or the good files; each is reported (or, hidden, left alone) and never opened."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest

from ingestor.landing import reason_name

from .conftest import SERVICE, TIMEOUT, Zone, ingestor_command, install_plugin, ndjson

pytestmark = pytest.mark.timeout(180)
LATIN1 = b"caf\xe9_fz_events.jsonl"  # a Latin-1 name: legal on Linux, not UTF-8
ESCAPED = "caf%E9_fz_events.jsonl"  # what it is moved to rejected/ under
PATH_MAX = os.pathconf("/", "PC_PATH_MAX")
NOBODY = 65534


def _land_good_files(zone: Zone) -> None:
    zone.land_valid("2025_01_01_fz_events.jsonl", 3)
    zone.land_valid("sub/2025_01_02_fz_metrics.jsonl.gz", 2)


def _landing(zone: Zone) -> Path:
    return zone.landing / SERVICE / "landing"


def _outcomes(done: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    """The run's outcomes by path; the run ended with a result (exit 1: some file rejected or failed)."""
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    return {f["path"]: f for f in json.loads(done.stdout)["files"]}


def _text(args: list[str], zone: Zone) -> subprocess.CompletedProcess[bytes]:
    """A command whose output must be valid UTF-8 (its bytes are decoded strictly by the test)."""
    return subprocess.run(args, cwd=zone.root, env=zone.env(), capture_output=True, timeout=TIMEOUT, check=False)


def test_a_name_that_is_not_utf8_is_rejected_under_an_escaped_name_and_the_rest_loads(zone: Zone) -> None:
    _land_good_files(zone)
    (_landing(zone) / os.fsdecode(LATIN1)).write_bytes(ndjson([{"uid": 900}]))
    long_name = b"\xe9" * 230 + b"_fz_events.jsonl"  # 246 bytes; escaped (`%E9` a byte) it must be shortened
    (_landing(zone) / os.fsdecode(long_name)).write_bytes(ndjson([{"uid": 901}]))
    outcomes = _outcomes(zone.run())
    odd = outcomes.pop("fz/landing/caf\\xe9_fz_events.jsonl")
    assert odd["status"] == "rejected" and odd["destination"] == f"fz/rejected/{ESCAPED}"
    assert odd["reason_code"] == "unsafe_name"
    assert "fz/landing/caf\\xe9_fz_events.jsonl' is not valid UTF-8" in odd["reason"]
    long = outcomes.pop("fz/landing/" + "\\xe9" * 230 + "_fz_events.jsonl")
    fitted = long["destination"].removeprefix("fz/rejected/")
    assert long["status"] == "rejected" and fitted.startswith("%E9%E9") and len(fitted.encode()) <= 255
    assert {o["status"] for o in outcomes.values()} == {"loaded"} and len(outcomes) == 2
    assert unquote_to_bytes(ESCAPED) == LATIN1  # the escaping is reversible
    for name in (long["destination"], reason_name(long["destination"])):  # (its reason's name shortened too)
        (zone.landing / name).unlink()
    zone.expect.rejected.add(ESCAPED)
    zone.check()  # the good files loaded once; the odd ones in rejected/ with their reasons, not in the ledger
    reason = json.loads((_landing(zone).parent / "rejected" / f"{ESCAPED}.reason.json").read_bytes().decode())
    assert reason["file"] == odd["path"] and reason["reason"] == odd["reason"]
    history = zone.query("SELECT object_name FROM dp_ops_dev._ingestor_history WHERE status = 'rejected' ORDER BY 1")
    assert history == sorted([(odd["path"],), (long["path"],)])

    # The same name again (its escaped name is taken: numbered), and such names left raw in rejected/ and archive/
    # (by hand, or by an earlier version): the text summary and `ingestor status` must not stumble on any of them.
    (_landing(zone) / os.fsdecode(LATIN1)).write_bytes(ndjson([{"uid": 902}]))
    for folder in ("rejected", "archive"):
        (_landing(zone).parent / folder / os.fsdecode(b"old\xff_fz_metrics.jsonl")).write_bytes(b"{}\n")
    text = _text([a for a in zone.command() if a != "--json"], zone)
    assert text.returncode == 1, text.stderr[-3000:]
    assert "rejected: fz/landing/caf\\xe9_fz_events.jsonl" in text.stdout.decode()
    assert (_landing(zone).parent / "rejected" / "caf%E9_fz_events__2.jsonl.reason.json").exists()
    status = [*ingestor_command(), "status", "--service", SERVICE, "--env", "dev", "--data-dir", str(zone.root)]
    shown = _text([*status, "--json"], zone)
    assert shown.returncode == 1 and b"Traceback" not in shown.stderr, shown.stderr[-3000:]
    rejected = {t["data_type"]: t["rejected"] for t in json.loads(shown.stdout.decode())["types"]}
    assert rejected == {"events": 1, "(unmatched)": 1, "metrics": 1}  # (`__2` leaves the type's pattern)
    table = _text(status, zone)
    assert table.returncode == 1 and "3 rejected" in table.stdout.decode(), table.stderr[-3000:]


def _deep_tree(landing: Path) -> tuple[str, str]:
    """Folders below `landing` down to a path just within PATH_MAX, holding a file and a folder whose paths are past
    it (made through directory descriptors, as a program working in the folder can): their names from the zone."""
    deep = landing
    while len(os.fsencode(deep)) < PATH_MAX - 100:
        deep /= "d" * min(200, PATH_MAX - 100 - len(os.fsencode(deep)))
    deep.mkdir(parents=True)
    assert PATH_MAX - 200 < len(os.fsencode(deep)) < PATH_MAX
    file, folder = "f" * 200 + "_fz_events.jsonl", "e" * 250
    fd = os.open(deep, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
        os.mkdir(folder, dir_fd=fd)
        inner = os.open(folder, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(os.open("2025_01_09_fz_events.jsonl", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=inner))
        os.close(inner)
    finally:
        os.close(fd)
    relative = deep.relative_to(landing.parents[1]).as_posix()
    return f"{relative}/{file}", f"{relative}/{folder}/"


def test_paths_past_the_system_limits_are_reported_while_the_rest_loads(zone: Zone) -> None:
    _land_good_files(zone)
    file, folder = _deep_tree(_landing(zone))
    outcomes = _outcomes(zone.run())
    assert outcomes.pop(file)["reason"] == "it cannot be looked at (File name too long); left in landing"
    assert outcomes.pop(folder)["reason"] == (
        "the folder cannot be listed (File name too long): nothing below it was read; left in landing"
    )
    assert {o["status"] for o in outcomes.values()} == {"loaded"} and len(outcomes) == 2
    again = _outcomes(zone.run())  # reported again, nothing else to do
    assert {path: o["status"] for path, o in again.items()} == {file: "failed", folder: "failed"}
    shutil.rmtree(_landing(zone) / file.split("/")[2])  # (through descriptors: the tree is past PATH_MAX)
    zone.check()


def test_what_is_not_a_regular_file_is_reported_and_never_opened(zone: Zone) -> None:
    _land_good_files(zone)
    landing = _landing(zone)
    os.mkfifo(landing / "2025_01_05_fz_events.jsonl")  # opened, it would block the run: zone.run has a timeout
    os.mknod(landing / "2025_01_06_fz_metrics.jsonl", stat.S_IFSOCK | 0o600)
    (landing / "2025_01_07_fz_events.jsonl").symlink_to(landing / "2025_01_01_fz_events.jsonl")
    outcomes = _outcomes(zone.run())
    assert {o["reason_code"] for o in outcomes.values() if o["status"] != "loaded"} == {"unreadable_entry"}
    assert {path: (o["status"], o["reason"]) for path, o in outcomes.items() if o["status"] != "loaded"} == {
        "fz/landing/2025_01_05_fz_events.jsonl": ("failed", "not a regular file (a FIFO); left in landing"),
        "fz/landing/2025_01_06_fz_metrics.jsonl": ("failed", "not a regular file (a socket); left in landing"),
        "fz/landing/2025_01_07_fz_events.jsonl": (
            "failed",
            "not a regular file (a symbolic link, not followed); left in landing",
        ),
    }
    assert len(outcomes) == 5
    for name in ("2025_01_05_fz_events.jsonl", "2025_01_06_fz_metrics.jsonl", "2025_01_07_fz_events.jsonl"):
        (landing / name).unlink()  # each was left where it was
    zone.check()


def test_files_in_hidden_folders_are_left_alone(zone: Zone) -> None:
    _land_good_files(zone)
    hidden = [".incoming/2025_01_03_fz_events.jsonl", "sub/.partial/deeper/2025_01_04_fz_metrics.jsonl"]
    for name in hidden:
        zone.land(name, ndjson([{"uid": 800}]))
    done = zone.run_to_completion()
    assert [f["path"] for f in json.loads(done.stdout)["files"]] == [
        "fz/landing/2025_01_01_fz_events.jsonl",
        "fz/landing/sub/2025_01_02_fz_metrics.jsonl.gz",
    ]
    assert zone.files("landing") == sorted(hidden)
    shutil.rmtree(_landing(zone) / ".incoming")
    shutil.rmtree(_landing(zone) / "sub")
    zone.check()


@pytest.fixture
def reachable_zone() -> Iterator[Zone]:
    """A zone another user can reach (pytest's temporary folders are its owner's alone)."""
    base = Path(tempfile.mkdtemp(prefix="ingestor-odd-"))
    base.chmod(0o755)
    install_plugin(base / "site")
    try:
        yield Zone(base / "zone", base / "site")
    finally:
        for folder, _, _ in os.walk(base):
            os.chmod(folder, 0o755)
        shutil.rmtree(base)


def test_a_folder_or_a_file_the_run_cannot_read_is_reported_while_the_rest_loads(reachable_zone: Zone) -> None:
    zone = reachable_zone
    _land_good_files(zone)
    as_user: list[str] = []  # as root, no permission stops a read: the run goes as another user
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: no way to run the command as a user a folder can refuse")
        as_user = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        for folder, _, files in os.walk(zone.root.parent):
            for path in [folder, *(os.path.join(folder, f) for f in files)]:
                os.chown(path, NOBODY, NOBODY)
    locked = _landing(zone) / "locked"
    locked.mkdir()
    (locked / "2025_01_08_fz_events.jsonl").write_bytes(ndjson([{"uid": 700}]))
    locked.chmod(0)
    unreadable = zone.land("2025_01_09_fz_metrics.jsonl", ndjson([{"uid": 701}]))
    unreadable.chmod(0)
    done = subprocess.run(
        [*as_user, *zone.command()],
        cwd=zone.root,
        env=zone.env(HOME=str(zone.root)),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    outcomes = _outcomes(done)
    assert outcomes.pop("fz/landing/locked/") == {
        "path": "fz/landing/locked/",
        "service": SERVICE,
        "data_type": None,
        "status": "failed",
        "rows": 0,
        "bytes": 0,
        "dropped": 0,
        "null_lines": 0,
        "reason": "the folder cannot be listed (Permission denied): nothing below it was read; left in landing",
        "reason_code": "unreadable_entry",
        "destination": None,
        "notes": [],
    }
    assert outcomes.pop("fz/landing/2025_01_09_fz_metrics.jsonl")["reason"] == (
        "it cannot be read (Permission denied); left in landing"
    )
    assert {o["status"] for o in outcomes.values()} == {"loaded"} and len(outcomes) == 2
    unreadable.unlink()
    locked.chmod(0o755)
    assert [p.name for p in locked.iterdir()] == ["2025_01_08_fz_events.jsonl"]
    shutil.rmtree(locked)
    zone.check()
