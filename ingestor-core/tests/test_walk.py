"""Listing a local landing zone (`ingestor.landing.walk`): every entry below a folder is listed as it is on disk,
what is not a regular file with what it is (its `fault`), and nothing is opened (a FIFO would block)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ingestor.landing.local import LocalLanding

pytestmark = pytest.mark.timeout(60)


def test_every_entry_is_listed_and_what_is_not_a_regular_file_says_what_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "fz" / "landing"
    (folder / ".incoming").mkdir(parents=True)
    (folder / "a.jsonl").write_bytes(b"{}\n")
    (folder / os.fsdecode(b"caf\xe9.jsonl")).write_bytes(b"{}\n")  # listed as it is (the scan rejects it)
    (folder / ".incoming" / "b.jsonl").write_bytes(b"")  # listed too: the scan leaves hidden names alone
    os.mkfifo(folder / "fifo.jsonl")
    os.mknod(folder / "socket.jsonl", stat.S_IFSOCK | 0o600)
    (folder / "link.jsonl").symlink_to(folder / "a.jsonl")
    (folder / "sub").symlink_to(folder / ".incoming", target_is_directory=True)
    expected = {
        "a.jsonl": None,
        "caf\udce9.jsonl": None,
        ".incoming/b.jsonl": None,
        "fifo.jsonl": "not a regular file (a FIFO)",
        "socket.jsonl": "not a regular file (a socket)",
        "link.jsonl": "not a regular file (a symbolic link, not followed)",
        "sub": "not a regular file (a symbolic link, not followed)",
    }
    if os.geteuid() == 0:  # making a device takes root
        os.mknod(folder / "null.jsonl", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        expected["null.jsonl"] = "not a regular file (a character device)"
    listed = LocalLanding(tmp_path).list("fz/landing/")
    assert {f.name.removeprefix("fz/landing/"): f.fault for f in listed} == expected
    a = next(f for f in LocalLanding(tmp_path).list("fz/landing/") if f.name == "fz/landing/a.jsonl")
    assert a.size == 3 and a.version == str((folder / "a.jsonl").stat().st_mtime_ns)
