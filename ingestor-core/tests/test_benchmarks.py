"""The benchmark scripts run and print their figures (what they measure is no test's business: speed is read
off their output, never asserted here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_ingest_local_compares_a_run_with_duckdb_and_with_arrows_parse_alone() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / "ingest_local.py"), "--files", "3", "--rows", "20", "--duckdb", "--floor"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    assert "files: 3, rows: 60," in out
    assert "arrow: Arrow's JSON parse alone" in out
    for figure in ("this / DuckDB", "this / Arrow's parse alone", "Arrow's parse alone / DuckDB"):
        assert re.search(rf"^{re.escape(figure)} \(rows/s\): \d+\.\d\d", out, re.MULTILINE), (figure, out)
