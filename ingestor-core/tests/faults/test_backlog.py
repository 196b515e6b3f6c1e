"""A backlog drains within a real memory limit (a cgroup, see limits.py): the run finds its budget in the cgroup and
loads in parts, and its staging folder, on a tmpfs charged to the same limit as Cloud Run's in-memory disk, holds
one part at a time. Staged whole, this backlog's rows (200 MB) and the process outgrow the limit: the run was
OOM-killed while staging, nothing loaded."""

from __future__ import annotations

import pytest

from .conftest import Zone
from .limits import MiB, run_limited, tmpfs

pytestmark = pytest.mark.timeout(300)
LIMIT_MB = 256
FILES = 2000
RECORDS = 10  # a file: ~300 bytes of gzip, 100 KB of rows (each record holds 10 KB of text)


def test_a_backlog_drains_within_a_memory_limit(zone: Zone) -> None:
    pad = "x" * 10_000
    for n in range(FILES):
        zone.land_valid(f"2025_03_01_{n:05d}_fz_events.jsonl.gz", RECORDS, pad=pad)
    with tmpfs(zone.tmp, 2 * LIMIT_MB):
        limited = run_limited(
            zone.command(), LIMIT_MB, env=zone.env(INGESTOR_PART_FILES="100"), cwd=zone.root, timeout=240
        )
        assert list(zone.tmp.iterdir()) == []
    done = limited.done
    assert not limited.oom_killed and done.returncode == 0, (limited.peak // MiB, done.stderr[-3000:])
    assert f"part {FILES // 100} of {FILES // 100}" in done.stderr
    zone.check()
