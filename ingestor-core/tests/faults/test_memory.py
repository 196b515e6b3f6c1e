"""Memory poison pills under a real memory limit: the real `ingestor run` in a cgroup of 512 MiB (Cloud Run's
default) over a gzip bomb of valid lines that expands to 700 MB, which must load exactly, and over files that are
not NDJSON (NUL bytes, one giant array on a line, one giant record), which must be rejected within the first bound
on a record's size. Good small files beside them (same data type and the other one) load in the same run.

The pills are written by the test, streaming, never held in memory nor committed."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest

from .conftest import SERVICE, Zone
from .limits import MiB, run_limited

pytestmark = pytest.mark.timeout(600)
LIMIT_MB = 512
CHUNK_RECORDS = 256  # records compressed at once
PAD = "x" * 16_000  # the bomb's bytes, with few records to parse (quick)


def _gzip_bomb(path: Path, size: int, first_uid: int) -> list[int]:
    """A `.jsonl.gz` of valid records with distinct uids, `size` bytes once decompressed; written streaming."""
    path.parent.mkdir(parents=True, exist_ok=True)
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: a gzip member; ~170:1, quickly
    uid, written = first_uid, 0
    with path.open("wb") as out:
        while written < size:
            chunk = b"".join(
                b'{"uid": %d, "v": "bomb", "pad": "%s"}\n' % (uid + i, PAD.encode()) for i in range(CHUNK_RECORDS)
            )
            out.write(compressor.compress(chunk))
            uid, written = uid + CHUNK_RECORDS, written + len(chunk)
        out.write(compressor.flush())
    return list(range(first_uid, uid))


def _nul_bytes(path: Path, size: int) -> None:
    """A file of `size` NUL bytes, as a crash can leave one (sparse: no disk used)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        out.truncate(size)


def _one_line(path: Path, size: int, start: bytes, item: bytes, end: bytes) -> None:
    """`start`, then `item` repeated to `size` bytes, then `end` and a newline: one line, written streaming."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = item * (MiB // len(item))
    with path.open("wb") as out:
        out.write(start)
        for _ in range(size // len(block)):
            out.write(block)
        out.write(end + b"\n")


def _run(zone: Zone) -> dict[str, Any]:
    """`ingestor run` under LIMIT_MB: its result (it must not be killed); its peak memory is printed."""
    limited = run_limited(zone.command(), LIMIT_MB, env=zone.env(), cwd=zone.root)
    assert not limited.oom_killed, f"killed at {LIMIT_MB} MiB (peak {limited.peak // MiB} MiB)"
    assert limited.done.returncode in (0, 1), limited.done.stderr[-3000:]
    print(f"peak {limited.peak // MiB} MiB at {LIMIT_MB} MiB (page cache included)")  # shown with -s
    result: dict[str, Any] = json.loads(limited.done.stdout)
    return result


def _good_files_beside(zone: Zone) -> None:
    zone.land_valid("2025_01_02_fz_events.jsonl", 3)
    zone.land_valid("2025_01_02_fz_metrics.jsonl.gz", 2)


def test_a_gzip_bomb_of_valid_lines_loads_exactly_within_512_mib(zone: Zone) -> None:
    """Once OOM-killed (the columnar path decompressed it whole); then refused by DuckDB (out of memory: its JSON
    reader in two threads at the budget's 64 MB)."""
    name = "2025_01_01_fz_events.jsonl.gz"
    zone.expect.valid[name] = _gzip_bomb(zone.landing / SERVICE / "landing" / name, 700 * 10**6, 10**6)
    _good_files_beside(zone)
    result = _run(zone)
    assert result["success"], [(f["path"], f["status"], f["reason"]) for f in result["files"]]
    zone.check()  # every record once, each file archived


@pytest.mark.parametrize(
    ("pill", "write"),
    [
        ("nul_bytes", lambda path: _nul_bytes(path, 300 * MiB)),
        ("array_on_one_line", lambda path: _one_line(path, 200 * MiB, b"[", b'{"uid": 1, "v": "item"},', b"{}]")),
        ("one_giant_record", lambda path: _one_line(path, 150 * MiB, b'{"uid": 1, "v": "', b"x" * 64, b'"}')),
    ],
)
def test_a_file_that_is_not_ndjson_is_rejected_at_its_first_bound_within_512_mib(
    zone: Zone, pill: str, write: Any
) -> None:
    name = f"2025_01_01_{pill}_fz_events.jsonl"
    write(zone.landing / SERVICE / "landing" / name)
    zone.expect.rejected.add(name)
    _good_files_beside(zone)
    result = _run(zone)
    reason = next(f["reason"] for f in result["files"] if f["path"] == f"{SERVICE}/landing/{name}")
    assert "line 1" in reason, reason
    if pill == "nul_bytes":
        assert "NUL" in reason, reason
    else:  # the bound the budget gives at 512 MiB (1/64), and the setting that raises it
        assert f"{8 * MiB:,} bytes" in reason and "INGESTOR_MAX_RECORD_BYTES" in reason, reason
    zone.check()
