"""Benchmark: a backlog of tiny files of one data type, drained under a real memory limit (a cgroup).

    python benchmarks/backlog.py --files 300000 --memory-mb 512 [--tmpfs] [--part-files N] [--keep]

Generates the files (one record of a few bytes each), then runs `ingestor run --json` (embedded backend, as the
Cloud Run job runs it) in a fresh memory cgroup of `--memory-mb`: the run finds its budget there (its parts,
DuckDB's memory). Prints whether the backlog drained (every file archived, every record in the table once), the
run's peak memory (its anonymous memory and the staging's, sampled; the cgroup's own peak counts the page cache,
which is reclaimable, and so reaches the limit), the duration, and the parts with their time (from the run's log).
With `--tmpfs` the temporary folder (where parts are staged) is a tmpfs charged to the same cgroup, as on Cloud
Run. Needs root and a writable memory cgroup (see ingestor-core/tests/faults/limits.py, which this uses).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import duckdb
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ingestor-core" / "tests" / "faults"))
from limits import MiB, run_limited, tmpfs
from workspace import workspace  # (beside this script)

CHILD = """
import sys
from ingestor import DataType, Service, hookimpl
from ingestor.cli import app
from ingestor.plugins import load_plugins, use_plugins

class Bench:
    @hookimpl
    def services(self):
        return [Service(data_types=[DataType(service="bench", name="events", dataset="bench_{env}", table="events")])]

if __name__ == "__main__":  # staging workers re-import this module
    with use_plugins(load_plugins([Bench()], entry_points=False, strict=True)):
        app(sys.argv[1:])
"""
PART = re.compile(r"part (\d+) of (\d+) \((\d+) files, (\d+) bytes\) settled in ([\d.]+) s")


def generate(landing: Path, files: int) -> int:
    """Write the files (`{"n":<i>}`); their total size in bytes."""
    folder = landing / "bench" / "landing"
    folder.mkdir(parents=True, exist_ok=True)
    size = 0
    for i in range(files):
        data = b'{"n":%d}\n' % i
        fd = os.open(folder / f"2025_01_01_{i:07d}_bench_events.jsonl", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        os.write(fd, data)
        os.close(fd)
        size += len(data)
    return size


class Sampler(threading.Thread):
    """Samples the run's unreclaimable memory while it runs: its process's anonymous memory (the Python heap,
    DuckDB's buffers) and the staging tmpfs's use; keeps the peak of their sum."""

    def __init__(self, marker: str, staging: Path) -> None:
        super().__init__(daemon=True)
        self.marker, self.staging, self.peak = marker, staging, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            anon = sum(_anon(pid) for pid in os.listdir("/proc") if pid.isdigit() and self.marker in _cmdline(pid))
            disk = os.statvfs(self.staging)
            self.peak = max(self.peak, anon + (disk.f_blocks - disk.f_bfree) * disk.f_frsize)


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _anon(pid: str) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"RssAnon:\s+(\d+) kB", status)
    return int(found.group(1)) * 1024 if found else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300_000)
    parser.add_argument("--memory-mb", type=int, default=512, help="the cgroup's memory limit")
    parser.add_argument("--tmpfs", action="store_true", help="stage on a tmpfs charged to the limit (Cloud Run)")
    parser.add_argument("--part-files", type=int, help="INGESTOR_PART_FILES (default: from the budget)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    with workspace("ingestor-backlog-", args.keep) as root:
        started = time.perf_counter()
        size = generate(root / "ela-dp-dev", args.files)
        print(f"files: {args.files:,} ({size / 1e6:.1f} MB), generated in {time.perf_counter() - started:.0f} s")
        (root / "bench_child.py").write_text(CHILD)
        env = {k: v for k, v in os.environ.items() if not k.startswith("INGESTOR_")}
        env.update(TMPDIR=str(root / "tmp"), INGESTOR_LOG_LEVEL="INFO")
        if args.part_files:
            env["INGESTOR_PART_FILES"] = str(args.part_files)
        command = [sys.executable, str(root / "bench_child.py"), "run", "--service", "bench", "--env", "dev"]
        command += ["--data-dir", str(root), "--json"]
        (root / "tmp").mkdir()
        with tmpfs(root / "tmp", args.memory_mb) if args.tmpfs else nullcontext():
            sampler = Sampler(str(root / "bench_child.py"), root / "tmp")
            sampler.start()
            started = time.perf_counter()
            limited = run_limited(command, args.memory_mb, env=env, cwd=root, timeout=7200)
            elapsed = time.perf_counter() - started
            sampler.done.set()
        done = limited.done
        print(f"limit: {args.memory_mb} MiB{' (staging on a tmpfs inside it)' if args.tmpfs else ''}")
        print(f"exit: {done.returncode}{' (OOM-killed)' if limited.oom_killed else ''}")
        print(f"peak memory: {sampler.peak / MiB:,.0f} MiB (anonymous and staging, sampled)")
        print(f"the cgroup's peak: {limited.peak / MiB:,.0f} MiB (page cache included)")
        print(f"duration: {elapsed:.0f} s, {args.files / elapsed:,.0f} files/s")
        parts = [tuple(float(x) for x in m.groups()) for m in PART.finditer(done.stderr)]
        if parts:
            seconds = sorted(p[4] for p in parts)
            print(
                f"parts: {len(parts)} of {parts[0][2]:.0f} files; per part {seconds[len(seconds) // 2]:.1f} s median,"
            )
            print(f"  {seconds[0]:.1f} s fastest, {seconds[-1]:.1f} s slowest, first {parts[0][4]:.1f} s")
        if done.returncode in (0, 1):
            result = orjson.loads(done.stdout)
            problems = [f for f in result["files"] if f["status"] not in ("loaded", "already_loaded")]
            for f in problems[:3]:
                print(f"{f['status']}: {f['path']}: {f['reason']}")
            print(
                f"stage {result['tables'][0]['stage_seconds']:.0f} s, load {result['tables'][0]['load_seconds']:.0f} s"
            )
            left = list((root / "ela-dp-dev" / "bench" / "landing").iterdir())
            with duckdb.connect(str(root / "warehouse_dev.duckdb"), read_only=True) as con:
                rows, distinct = con.execute("SELECT count(*), count(DISTINCT n) FROM bench_dev.events").fetchone()  # type: ignore[misc]
            drained = result["totals"]["loaded"] == rows == distinct == args.files and not left
            print(f"drained: {drained} ({result['totals']['loaded']:,} loaded, {rows:,} rows, {len(left)} left)")
        else:
            print(done.stderr[-2000:])


if __name__ == "__main__":
    main()
