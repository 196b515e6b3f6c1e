"""A test-only fault hook: stop the process at a named point of a run, to prove crash safety.

`checkpoint(point)` does nothing unless a test installed a handler in this process
(`install(handler)`); production code never installs one, and nothing here reads the
environment. The fault tests start the real CLI through their own launcher
(`tests/faults/launch.py point[:n[:SIGNAL]] -- <ingestor args>`), which installs
`signal_at(spec)`: the n-th call (default: the first) of `checkpoint(point)` sends SIGNAL
(default KILL; TERM, INT or STOP also work) to this very process. The points, in run order:

- `after_stage`     a part's files of a data type were read and staged, nothing of them loaded yet (engine)
- `before_publish`  a load's rows and ledger entries are staged, nothing published (warehouse/sql): DuckDB is
                    inside the load's transaction (rows inserted, ledger rows not), BigQuery's load jobs are done
                    (staging tables), its commit not run
- `after_commit`    the load (rows + ledger) is committed, no file of the batch moved yet (load)
- `before_move`     a file is about to be moved (a rejected one has its reason written already) (settle)
- `mid_move`        the local move linked the destination but has not removed the source (landing/local)

`ingestor rebuild`'s points, per data type: `rebuild_after_stage` (its archived files staged, nothing written),
`rebuild_before_swap` (DuckDB: inside the transaction, the work table full, the live table untouched),
`rebuild_after_load_job` (BigQuery: the work tables loaded, nothing replaced) and `rebuild_after_commit` (the table
and its ledger entries replaced, the next data type not begun) (ingestor.rebuild, warehouse/*/rebuild).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable

Handler = Callable[[str], None]
_handler: Handler | None = None


def checkpoint(point: str) -> None:
    """Call the installed handler with `point`; a no-op when none is installed (always, outside tests)."""
    if _handler is not None:
        _handler(point)


def install(handler: Handler | None) -> None:
    """Make `handler` see every checkpoint of this process (None: none again)."""
    global _handler
    _handler = handler


def signal_at(spec: str) -> Handler:
    """A handler for `point[:n[:SIGNAL]]`: the n-th call of `checkpoint(point)` signals this process."""
    name, _, rest = spec.partition(":")
    nth, _, sig = rest.partition(":")
    wanted, signum = int(nth or 1), getattr(signal, "SIG" + (sig or "KILL").upper())
    count, lock = [0], threading.Lock()

    def handler(point: str) -> None:
        if point != name:
            return
        with lock:
            count[0] += 1
            fire = count[0] == wanted
        if fire:
            os.kill(os.getpid(), signum)

    return handler
