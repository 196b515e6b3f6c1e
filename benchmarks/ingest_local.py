"""Benchmark: the embedded backend (local folder + DuckDB) on Garmin-activity-like records.

    python benchmarks/ingest_local.py --files 200 --rows 1000

Generates N synthetic landing files of nested activity records, runs `ingestor run` in a
child process (on a fresh copy, `--repeat` times), and prints rows/s, files/s, the stage and
load times, how many files took the columnar path, and the child's peak RSS (medians of the
runs). `--duckdb` also times DuckDB's own `read_json` (as `read_json_auto`: every type detected)
into a table on the same files, the same way (a child process): the reference, with no type
policy, ledger or moves. `--floor` also times Arrow's JSON parse alone on the same files, as the
columnar path calls it (one file per thread, as many threads as staging uses), and nothing else:
the part of a run that no change to ingestor's own code removes. `--against PYTHON` also runs
another build (e.g. the previous main's virtual environment) on the same files. The runs
alternate (this build, the other, DuckDB, Arrow, then the next round in another order), so all
see the same load on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
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


def child(command: list[str], env: dict[str, str], out: Path) -> tuple[float, float, float]:
    """Run a child process, its stdout into `out`: (wall seconds, CPU seconds, its own peak RSS in MB)."""
    start = time.perf_counter()
    with out.open("wb") as stdout, (out.parent / "stderr.txt").open("wb") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env)
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{command[:2]} failed ({status}):\n{out.read_text()}\n{(out.parent / 'stderr.txt').read_text()}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def run_once(root: Path, landing: Path, env: dict[str, str], python: str) -> tuple[float, float, float, dict]:
    """One `ingestor run` on a fresh copy of the landing zone and database: (seconds, CPU seconds, peak RSS in MB,
    its result)."""
    run_root = root / "run"
    shutil.rmtree(run_root, ignore_errors=True)
    shutil.copytree(landing, run_root / "ela-dp-dev")
    shutil.copy(root / "bench_child.py", run_root / "bench_child.py")
    command = [python, str(run_root / "bench_child.py"), "run", "--service", "garmin", "--env", "dev"]
    command += ["--data-dir", str(run_root), "--log-level", "WARNING", "--json"]
    elapsed, cpu, rss = child(command, env, root / "result.json")
    return elapsed, cpu, rss, orjson.loads((root / "result.json").read_bytes())


def duckdb_read_json(root: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """A child process loading the landing files with DuckDB's read_json, every type detected (a fresh database):
    (seconds, CPU seconds, peak RSS in MB)."""
    database = root / "reference.duckdb"
    database.unlink(missing_ok=True)
    files = str(root / "landing" / "garmin" / "landing" / "*.jsonl")
    code = (
        "import duckdb, sys; duckdb.connect(sys.argv[1]).execute("
        "\"CREATE TABLE t AS SELECT * FROM read_json(?, format = 'newline_delimited')\", [sys.argv[2]])"
    )
    return child([sys.executable, "-c", code, str(database), files], env, root / "duckdb.out")


# Arrow's JSON parse of every file, as the columnar path calls it (`columnar.BLOCK_SIZE`, one file per thread, as
# many threads as staging uses): the files read and parsed, nothing checked, written or loaded.
ARROW_PARSE = """
import glob, io, sys
from concurrent.futures import ThreadPoolExecutor
import pyarrow.json as pj
from ingestor.settings import Settings
from ingestor.staging.batch import staging_workers
from ingestor.staging.columnar import BLOCK_SIZE

def parse(path):
    with open(path, "rb") as f:
        data = f.read()
    return pj.read_json(io.BytesIO(data), pj.ReadOptions(use_threads=False, block_size=BLOCK_SIZE)).num_rows

threads = staging_workers(Settings())
with ThreadPoolExecutor(threads) as pool:
    print(sum(pool.map(parse, sorted(glob.glob(sys.argv[1])))))
"""


def arrow_parse(root: Path, env: dict[str, str], python: str) -> tuple[float, float, float]:
    """A child process parsing the landing files with Arrow alone, as staging does: (seconds, CPU seconds, peak RSS
    in MB)."""
    files = str(root / "landing" / "garmin" / "landing" / "*.jsonl")
    return child([python, "-c", ARROW_PARSE, files], env, root / "arrow.out")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1, help="rounds on fresh copies; medians are reported")
    parser.add_argument("--row-path", action="store_true", help="stage row by row (INGESTOR_COLUMNAR=0)")
    parser.add_argument(
        "--garmin-plugin", action="store_true", help="the installed ingestor-garmin's activities type (its normalizer)"
    )
    parser.add_argument("--duckdb", action="store_true", help="also time DuckDB's read_json on the same files")
    parser.add_argument("--floor", action="store_true", help="also time Arrow's JSON parse alone on the same files")
    parser.add_argument("--against", help="another build's interpreter (its own virtual environment), run alternately")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    builds = {"this": sys.executable, **({"other": args.against} if args.against else {})}
    with workspace("ingestor-bench-", args.keep) as root:
        size = generate(root / "landing", args.files, args.rows)
        (root / "bench_child.py").write_text(CHILD)
        # As on a user's machine: byte-compiled modules are cached (set PYTHONDONTWRITEBYTECODE to measure cold).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        if args.row_path:
            env["INGESTOR_COLUMNAR"] = "0"
        if args.garmin_plugin:
            env["BENCH_GARMIN_PLUGIN"] = "1"
        for python in builds.values():
            subprocess.run([python, "-c", "import ingestor.cli, duckdb, pyarrow"], env=env, check=True)
        rows = args.files * args.rows
        runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in [*builds, "duckdb", "arrow"]}
        tables: dict[str, dict] = {}
        loads = [os.getloadavg()[0]]
        for round_ in range(args.repeat):
            order = [*builds, *(["duckdb"] if args.duckdb else []), *(["arrow"] if args.floor else [])]
            for name in order[round_ % len(order) :] + order[: round_ % len(order)]:
                if name == "duckdb":
                    runs[name].append(duckdb_read_json(root, env))
                    continue
                if name == "arrow":
                    runs[name].append(arrow_parse(root, env, builds["this"]))
                    continue
                elapsed, cpu, rss, result = run_once(root, root / "landing", env, builds[name])
                assert result["totals"]["rows"] == rows, result["totals"]
                tables[name] = next(t for t in result["tables"] if t["data_type"] == "activities")
                runs[name].append((elapsed, cpu, rss))
            loads.append(os.getloadavg()[0])
        print(f"files: {args.files}, rows: {rows:,}, NDJSON: {size / 1e6:.1f} MB")
        print(f"machine: {platform.node()}, {os.cpu_count()} CPUs; load average: {min(loads):.1f}-{max(loads):.1f}")
        medians = {}
        for name, measured in runs.items():
            if not measured:
                continue
            elapsed, cpu, rss = (statistics.median(m[i] for m in measured) for i in range(3))
            medians[name] = elapsed
            label = {**builds, "duckdb": "DuckDB read_json alone", "arrow": "Arrow's JSON parse alone"}[name]
            print(f"{name}: {label}")
            print(f"  runs: {', '.join(f'{m[0]:.2f} s' for m in measured)}; medians below")
            print(f"  elapsed: {elapsed:.2f} s (process start included), {rows / elapsed:,.0f} rows/s, "
                  f"{args.files / elapsed:,.1f} files/s, {size / 1e6 / elapsed:,.1f} MB/s")  # fmt: skip
            print(f"  CPU time: {cpu:.2f} s (rows per CPU-second: {rows / cpu:,.0f}); peak RSS: {rss:,.0f} MB")
            if name in tables:
                table = tables[name]
                print(f"  stage: {table['stage_seconds']:.2f} s ({table['columnar_files']} of {args.files} files "
                      f"column-wise); load: {table['load_seconds']:.2f} s (the last run)")  # fmt: skip
        if "duckdb" in medians:
            for name in builds:
                print(f"{name} / DuckDB (rows/s): {medians['duckdb'] / medians[name]:.2f}")
        if "arrow" in medians:
            print(f"this / Arrow's parse alone (rows/s): {medians['arrow'] / medians['this']:.2f}")
            if "duckdb" in medians:
                print(f"Arrow's parse alone / DuckDB (rows/s): {medians['duckdb'] / medians['arrow']:.2f}: the most")
                print("  this / DuckDB can be with Arrow parsing, were the rest of a run free")
        if "other" in medians:
            print(f"this / other (rows/s): {medians['other'] / medians['this']:.2f}")


if __name__ == "__main__":
    main()
