"""A stop asked from outside: SIGTERM, as Cloud Run sends it to end a task (SIGKILL follows 10 s later).

While `on_sigterm()` holds (the `ingestor run` command), the first SIGTERM raises `Terminated` where the main
thread is, so the run unwinds at once: a warehouse transaction in flight rolls back, no file moves, the lease is
released, the next run finishes the rest. A library may swallow that exception: DuckDB's Python client turns an
exception raised by a signal handler during a query into `RuntimeError("Query interrupted")`. So the stop is also
remembered, and `check()` raises `Terminated` again before each load and each settling of files; any error that
ends the block after a stop, or a block that ends normally after one, ends as `Terminated` too."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_requested = threading.Event()


class Terminated(BaseException):
    """SIGTERM arrived: unwinds the run like Ctrl-C, past `except Exception`."""


def check() -> None:
    """Raise `Terminated` if a stop was asked (a no-op outside `on_sigterm()`)."""
    if _requested.is_set():
        raise Terminated()


@contextmanager
def on_sigterm() -> Iterator[None]:
    """While the block runs, SIGTERM stops it (later ones are ignored, so cleanup ends); the block ends in
    `Terminated` whenever a stop was asked, whatever became of the first one raised."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def handler(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _requested.set()
        raise Terminated()

    _requested.clear()
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
        check()
    except Exception as error:
        if _requested.is_set():
            raise Terminated() from error
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        _requested.clear()
