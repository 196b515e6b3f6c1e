"""A stop asked from outside: SIGTERM, as Cloud Run sends it to end a task (SIGKILL follows 10 s later), or
Ctrl-C (SIGINT).

While `honoured()` holds (the `ingestor run` command), the first SIGTERM raises `Terminated` where the main
thread is, and Ctrl-C `KeyboardInterrupt`, so the run unwinds at once: a warehouse transaction in flight rolls
back, no file moves, the lease is released, the next run finishes the rest. A library may swallow that
exception: DuckDB's Python client turns an exception raised by a signal handler during a query into
`RuntimeError("Query interrupted")`. So the stop is also remembered, and `check()` raises it again before each
load and each settling of files; any error that ends the block after a stop, or a block that ends normally
after one, ends as the stop too. Later SIGTERMs are ignored, so cleanup ends; a second Ctrl-C interrupts it."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_asked: list[type[BaseException]] = []  # the stop asked, if any: Terminated or KeyboardInterrupt


class Terminated(BaseException):
    """SIGTERM arrived: unwinds the run like Ctrl-C, past `except Exception`."""


def check() -> None:
    """Raise the stop asked, if any (a no-op outside `honoured()`)."""
    if _asked:
        raise _asked[0]()


@contextmanager
def honoured() -> Iterator[None]:
    """While the block runs, SIGTERM and Ctrl-C stop it; the block ends in the stop whenever one was asked,
    whatever became of the exception first raised."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def on_sigterm(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _asked.append(Terminated)
        raise Terminated()

    def on_sigint(signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _asked.append(KeyboardInterrupt)
        raise KeyboardInterrupt()

    _asked.clear()
    previous = signal.signal(signal.SIGTERM, on_sigterm), signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
        check()
    except Exception as error:
        if _asked:
            raise _asked[0]() from error
        raise
    finally:
        for signum, handler in zip((signal.SIGTERM, signal.SIGINT), previous, strict=True):
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)  # (None: set outside Python)
        _asked.clear()
