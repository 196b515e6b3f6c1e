"""Benchmark: the embedded backend (local folder + DuckDB) on Garmin-activity-like records.

    python benchmarks/ingest_local.py --files 200 --rows 1000

Generates N synthetic landing files of nested activity records, runs `ingestor run` in a
child process (on a fresh copy, `--repeat` times), and prints rows/s, files/s, the stage and
load times, how many files took the columnar path, and the child's peak RSS. `--duckdb` also
times DuckDB's own `read_json` into a table on the same files, the same way (a child process):
the reference, with no type policy, ledger or moves.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson
from workspace import workspace  # (beside this script)

ACTIVITY_TYPES = [("running", 1), ("cycling", 2), ("hiking", 3), ("lap_swimming", 26)]


def activity(rng: random.Random, activity_id: int) -> dict:
    """One record shaped like Garmin's activity list items (about 1 KB of JSON)."""
    kind, type_id = rng.choice(ACTIVITY_TYPES)
    start = (
        f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(5, 20):02d}:{rng.randint(0, 59):02d}:00"
    )
    return {
        "activityId": activity_id,
        "activityName": f"Morning {kind}",
        "startTimeLocal": start,
        "startTimeGMT": start,
        "activityType": {"typeId": type_id, "typeKey": kind, "parentTypeId": 17, "isHidden": False},
        "eventType": {"typeId": 9, "typeKey": "uncategorized", "sortOrder": 10},
        "distance": round(rng.uniform(1000, 40000), 2),
        "duration": round(rng.uniform(600, 10000), 3),
        "elapsedDuration": round(rng.uniform(600, 12000), 3),
        "movingDuration": round(rng.uniform(600, 9000), 3),
        "elevationGain": round(rng.uniform(0, 900), 1),
        "averageSpeed": round(rng.uniform(1, 12), 4),
        "maxSpeed": round(rng.uniform(3, 20), 4),
        "startLatitude": round(rng.uniform(40, 50), 2),
        "startLongitude": round(rng.uniform(0, 10), 2),
        "ownerId": 82413233,
        "calories": rng.randint(100, 2000),
        "averageHR": rng.randint(90, 170),
        "maxHR": rng.randint(150, 195),
        "steps": rng.randint(0, 30000),
        "vO2MaxValue": rng.randint(40, 60),
        "deviceId": 3442975770,
        "manufacturer": "GARMIN",
        "hasPolyline": True,
        "privacy": {"typeId": 2, "typeKey": "private"},
        "splitSummaries": [
            {
                "splitType": "INTERVAL_ACTIVE",
                "noOfSplits": 1,
                "distance": rng.uniform(0, 9000),
                "duration": rng.uniform(0, 3000),
                "averageSpeed": rng.uniform(1, 5),
                "maxSpeed": rng.uniform(1, 9),
            },
            {
                "splitType": "RWD_RUN",
                "noOfSplits": 3,
                "distance": rng.uniform(0, 9000),
                "duration": rng.uniform(0, 3000),
                "averageSpeed": rng.uniform(1, 5),
                "maxSpeed": rng.uniform(1, 9),
            },
        ],
        "summarizedDiveInfo": {"summarizedDiveGases": []},
        "data_type": "activities",
    }


def generate(landing: Path, files: int, rows: int, seed: int = 1) -> int:
    """Write the landing files; return their total size in bytes."""
    rng = random.Random(seed)
    folder = landing / "garmin" / "landing"
    folder.mkdir(parents=True, exist_ok=True)
    size = 0
    for f in range(files):
        data = b"".join(orjson.dumps(activity(rng, f * rows + r)) + b"\n" for r in range(rows))
        (folder / f"2025_01_01_00_{f:05d}_garmin_activities.jsonl").write_bytes(data)
        size += len(data)
    return size


CHILD = """
import os, sys
from ingestor import DataType, Service, hookimpl
from ingestor.cli import app
from ingestor.plugins import load_plugins, use_plugins

class Bench:
    @hookimpl
    def services(self):
        return [Service(data_types=[DataType(service="garmin", name="activities", dataset="dp_normalized_{env}",
                                             table="normalized_garmin__activities", primary_key=("activityId",))])]

if __name__ == "__main__":  # staging workers re-import this module
    if os.environ.get("BENCH_GARMIN_PLUGIN"):
        import ingestor_garmin.plugin
        plugin = ingestor_garmin.plugin
    else:
        plugin = Bench()
    with use_plugins(load_plugins([plugin], entry_points=False, strict=True)):
        app(sys.argv[1:])
"""


def run_once(root: Path, landing: Path, env: dict[str, str]) -> tuple[float, dict, resource.struct_rusage]:
    """One `ingestor run` on a fresh copy of the landing zone and database; (seconds, result, child usage)."""
    run_root = root / "run"
    shutil.rmtree(run_root, ignore_errors=True)
    shutil.copytree(landing, run_root / "ela-dp-dev")
    shutil.copy(root / "bench_child.py", run_root / "bench_child.py")
    command = [sys.executable, str(run_root / "bench_child.py"), "run", "--service", "garmin", "--env", "dev"]
    command += ["--data-dir", str(run_root), "--log-level", "WARNING", "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"ingestor failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return elapsed, {**orjson.loads(done.stdout), "cpu": cpu}, after


def duckdb_read_json(root: Path, env: dict[str, str]) -> float:
    """Seconds for a child process to load the landing files with DuckDB's read_json (a fresh database)."""
    database = root / "reference.duckdb"
    database.unlink(missing_ok=True)
    files = str(root / "landing" / "garmin" / "landing" / "*.jsonl")
    code = (
        "import duckdb, sys; duckdb.connect(sys.argv[1]).execute("
        "\"CREATE TABLE t AS SELECT * FROM read_json(?, format = 'newline_delimited')\", [sys.argv[2]])"
    )
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(database), files], env=env, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1, help="runs on fresh copies; the best is reported")
    parser.add_argument("--row-path", action="store_true", help="stage row by row (INGESTOR_COLUMNAR=0)")
    parser.add_argument(
        "--garmin-plugin", action="store_true", help="the installed ingestor-garmin's activities type (its normalizer)"
    )
    parser.add_argument("--duckdb", action="store_true", help="also time DuckDB's read_json on the same files")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    with workspace("ingestor-bench-", args.keep) as root:
        size = generate(root / "landing", args.files, args.rows)
        (root / "bench_child.py").write_text(CHILD)
        # As on a user's machine: byte-compiled modules are cached (set PYTHONDONTWRITEBYTECODE to measure cold).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        if args.row_path:
            env["INGESTOR_COLUMNAR"] = "0"
        if args.garmin_plugin:
            env["BENCH_GARMIN_PLUGIN"] = "1"
        subprocess.run(
            [sys.executable, "-c", "import ingestor.cli, ingestor.run.engine, duckdb, pyarrow"], env=env, check=True
        )
        runs = [run_once(root, root / "landing", env) for _ in range(args.repeat)]
        elapsed, result, usage = min(runs, key=lambda r: r[0])
        table = next(t for t in result["tables"] if t["data_type"] == "activities")
        rows = args.files * args.rows
        assert result["totals"]["rows"] == rows, result["totals"]
        print(f"files: {args.files}, rows: {rows:,}, NDJSON: {size / 1e6:.1f} MB")
        if args.repeat > 1:
            print(f"runs: {', '.join(f'{r[0]:.2f} s' for r in runs)} (best below)")
        print(f"elapsed: {elapsed:.2f} s (process start included)")
        print(f"rows/s: {rows / elapsed:,.0f}")
        print(f"files/s: {args.files / elapsed:,.1f}")
        print(f"CPU time: {result['cpu']:.2f} s (rows per CPU-second: {rows / result['cpu']:,.0f})")
        print(f"MB/s: {size / 1e6 / elapsed:,.1f}")
        print(f"stage: {table['stage_seconds']:.2f} s ({table['columnar_files']} of {args.files} files column-wise)")
        print(f"load: {table['load_seconds']:.2f} s")
        print(f"peak RSS: {usage.ru_maxrss / 1024:,.0f} MB (the largest of the runs)")
        if args.duckdb:
            seconds = min(duckdb_read_json(root, env) for _ in range(args.repeat))
            print(f"DuckDB read_json alone: {seconds:.2f} s, {rows / seconds:,.0f} rows/s (best of {args.repeat})")


if __name__ == "__main__":
    main()
