"""Odd entries in a local landing zone, each beside good files of both data types in one real run: a name that is
not UTF-8. None stops the run or the good files."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest

from ingestor.landing import reason_name

from .conftest import SERVICE, TIMEOUT, Zone, ingestor_command, ndjson

pytestmark = pytest.mark.timeout(180)
LATIN1 = b"caf\xe9_fz_events.jsonl"  # a Latin-1 name: legal on Linux, not UTF-8
ESCAPED = "caf%E9_fz_events.jsonl"  # what it is moved to rejected/ under


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
