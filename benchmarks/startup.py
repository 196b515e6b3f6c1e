"""Benchmark: start-up, whole processes, this build against another (e.g. the previous main) in alternation.

    python benchmarks/startup.py --repeat 20 [--against /tmp/old/.venv/bin/python]

Times `python -c "import ingestor"`, `python -c "import ingestor.cli"` and `ingestor list-types`
(each a fresh process; byte-compiled modules cached, as on a user's machine). With `--against`,
each round runs every command once with this interpreter and once with the other, alternating
which goes first, so both see the same load; the medians (and the CPU time of the children) are
printed with the machine's load average. `--command` times any other `python` arguments.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "import ingestor": ["-c", "import ingestor"],
    "import ingestor.cli": ["-c", "import ingestor.cli"],
    "ingestor list-types": ["-c", "import sys; from ingestor.cli import main; sys.argv[1:] = ['list-types']; main()"],
}


def once(python: str, arguments: list[str], env: dict[str, str]) -> tuple[float, float]:
    """One process: (wall seconds, CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([python, *arguments], env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="rounds (each runs every command once per build)")
    parser.add_argument("--python", default=sys.executable, help="this build's interpreter (default: this one)")
    parser.add_argument("--against", help="the other build's interpreter (its own virtual environment)")
    parser.add_argument("--command", action="append", default=[], help="other python arguments, e.g. '-c import x'")
    args = parser.parse_args()
    commands = dict(COMMANDS)
    for extra in args.command:
        commands[extra] = extra.split(" ", 1) if extra.startswith("-c ") else extra.split()
    builds = {"this": args.python, **({"other": args.against} if args.against else {})}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for python in builds.values():  # warm up: byte-compile, fill the page cache
        for arguments in commands.values():
            once(python, arguments, env)
    times: dict[tuple[str, str], list[tuple[float, float]]] = {(b, c): [] for b in builds for c in commands}
    loads = [os.getloadavg()[0]]
    for round_ in range(args.repeat):
        order = list(builds) if round_ % 2 == 0 else list(reversed(builds))
        for command, arguments in commands.items():
            for build in order:
                times[build, command].append(once(builds[build], arguments, env))
        loads.append(os.getloadavg()[0])
    print(f"machine: {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"load average (1 min) during the runs: {min(loads):.2f} to {max(loads):.2f}")
    for name, python in builds.items():
        print(f"{name}: {python}")
    print(f"medians of {args.repeat} runs (wall / CPU):")
    for command in commands:
        cells = []
        for build in builds:
            walls, cpus = zip(*times[build, command], strict=True)
            wall, cpu = statistics.median(walls) * 1000, statistics.median(cpus) * 1000
            cells.append(f"{build} {wall:6.0f} ms / {cpu:4.0f} ms")
        print(f"  {command:24} " + "   ".join(cells))


if __name__ == "__main__":
    sys.exit(main())
