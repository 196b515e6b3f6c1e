"""A test-only fault hook: stop the process at a named point of a run, to prove crash safety.

`INGESTOR_FAULT=point[:n[:SIGNAL]]` makes the n-th call (default: the first) of `checkpoint(point)`
send SIGNAL (default KILL; TERM, INT or STOP also work) to this very process. Unset (always, outside
the fault-injection tests), a checkpoint costs one dictionary lookup. The points, in run order:

- `after_stage`     every file of a data type was read and staged, nothing of it loaded yet (engine)
- `before_ledger`   inside the DuckDB transaction: rows inserted, ledger rows not yet (warehouse/duckdb)
- `after_commit`    the load (rows + ledger) is committed, no file of the batch moved yet (engine)
- `before_move`     a file is about to be moved (a rejected one has its reason written already) (engine)
- `mid_move`        the local move linked the destination but has not removed the source (landing/local)
"""

from __future__ import annotations

import os
import signal

ENV = "INGESTOR_FAULT"
_counts: dict[str, int] = {}


def checkpoint(point: str) -> None:
    """Signal this process if `INGESTOR_FAULT` names `point` and this is its n-th call."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    name, _, rest = spec.partition(":")
    if name != point:
        return
    nth, _, sig = rest.partition(":")
    _counts[point] = _counts.get(point, 0) + 1
    if _counts[point] == int(nth or 1):
        os.kill(os.getpid(), getattr(signal, "SIG" + (sig or "KILL").upper()))
