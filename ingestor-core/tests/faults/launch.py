"""The real `ingestor` command with a fault armed, for the fault-injection tests only:

    python tests/faults/launch.py point[:n[:SIGNAL]] -- run --service fz ...

installs `ingestor.run.faults.signal_at(spec)` in this process, then runs the CLI's `main` on the
arguments after `--`. Production code never arms a fault: nothing else installs a handler."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> None:
    spec, separator, *args = argv
    if separator != "--":
        raise SystemExit("usage: launch.py point[:n[:SIGNAL]] -- <ingestor arguments>")
    from ingestor.cli import main as ingestor
    from ingestor.run import faults

    faults.install(faults.signal_at(spec))
    sys.argv = ["ingestor", *args]
    ingestor()


if __name__ == "__main__":  # staging workers (spawned processes) import this module again: nothing to arm there
    sys.path.pop(0)  # this folder: its test modules are no part of the command
    main(sys.argv[1:])
