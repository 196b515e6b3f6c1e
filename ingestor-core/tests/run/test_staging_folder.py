"""`staging_folder`: a run's staging folder is live while its lock is held; at start, a run removes the folders
whose lock is free (their runs died), never one whose lock another process holds."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ingestor.run.staging_folder import PREFIX, remove_dead, staging_folder

HOLD = (  # a process holding a folder's lock until its stdin closes
    "import fcntl, os, sys; fcntl.flock(os.open(sys.argv[1], os.O_RDONLY), fcntl.LOCK_EX); "
    "print('held', flush=True); sys.stdin.read()"
)


def test_a_folder_is_live_while_its_lock_is_held(tmp_path: Path) -> None:
    dead = tmp_path / f"{PREFIX}dead"
    (dead / "part-1").mkdir(parents=True)
    (dead / "part-1" / "0000001.jsonl").write_bytes(b"{}\n")
    held = tmp_path / f"{PREFIX}held"
    held.mkdir()
    other = tmp_path / "not-ours"
    other.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(held)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        with staging_folder(tmp_path) as mine:
            assert sorted(p.name for p in tmp_path.iterdir()) == sorted([held.name, mine.name, other.name])
            remove_dead(tmp_path)  # another run starting now: ours is live too
            assert mine.is_dir()
    finally:
        holder.communicate(b"")  # its process ends: the lock is free
    assert sorted(p.name for p in tmp_path.iterdir()) == [held.name, other.name]
    remove_dead(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [other.name]


@pytest.mark.parametrize("when", ["before its run opened it", "once its run opened it"])
def test_a_folder_removed_before_its_run_locked_it_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """The one window: between making its folder and locking it, another run starting finds it free and removes
    it. The run then makes another."""
    made: list[str] = []
    real_mkdtemp, real_flock = tempfile.mkdtemp, fcntl.flock

    def mkdtemp(prefix: str, dir: Path) -> str:
        made.append(real_mkdtemp(prefix=prefix, dir=dir))
        if len(made) == 1 and when == "before its run opened it":
            remove_dead(tmp_path)
        return made[-1]

    def flock(fd: int, operation: int) -> None:
        if len(made) == 1 and operation == fcntl.LOCK_EX and when == "once its run opened it":
            remove_dead(tmp_path)  # (its own lock is LOCK_EX | LOCK_NB)
        real_flock(fd, operation)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr(fcntl, "flock", flock)
    with staging_folder(tmp_path) as folder:
        assert [str(folder)] == made[1:] and folder.is_dir() and not Path(made[0]).exists()
    assert list(tmp_path.iterdir()) == []
