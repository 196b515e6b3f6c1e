"""Staging folders of runs at once (ingestor/run/staging_folder.py), with the real command: a run removes at start the
staging folder a killed run left, never the folder of a run that is alive, however long it stands still."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from .conftest import Zone, wait_stopped

pytestmark = pytest.mark.timeout(120)


def _folders(tmp: Path) -> dict[str, dict[str, bytes]]:
    """Each staging folder in `tmp`: its files and their content."""
    return {
        folder.name: {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        for folder in sorted(tmp.iterdir())
    }


def test_runs_at_once_never_remove_each_others_staging_folder(zone: Zone, site: Path, tmp_path: Path) -> None:
    """Three runs on three landing zones and warehouses share one temporary folder. A is frozen with a part staged;
    C, started meanwhile, is killed after a commit (its folder is now a dead run's); B, started while A is still
    frozen, removes C's folder and not A's; A then finishes its work from the files it staged."""
    a, b, c = zone, Zone(tmp_path / "b", site), Zone(tmp_path / "c", site)
    b.tmp = c.tmp = a.tmp
    for each in (a, b, c):
        each.standard_corpus()
    first = a.start(fault="after_stage:1:STOP")
    try:
        wait_stopped(first)
        live = _folders(a.tmp)
        assert [bool(files) for files in live.values()] == [True]  # A's folder, with its staged files
        assert c.run(fault="after_commit:1").returncode == -signal.SIGKILL
        dead = set(_folders(a.tmp)) - set(live)
        assert len(dead) == 1  # C did not remove A's folder either
        done = b.run_to_completion()
        assert _folders(a.tmp) == live  # A's folder, untouched; C's removed
        assert f"removed {a.tmp / dead.pop()}" in done.stderr
    finally:
        first.send_signal(signal.SIGCONT)
        first.communicate(timeout=60)
    assert first.returncode == 1  # it went on (a file was rejected)
    assert _folders(a.tmp) == {}
    c.run_to_completion()
    for each in (a, b, c):
        each.check()
