"""A stop asked from outside: SIGTERM, as Cloud Run sends it to end a task (SIGKILL follows 10 s later), or
Ctrl-C (SIGINT).

While `honoured()` holds (the `ingestor run` command), the first SIGTERM raises `Terminated` where the main
thread is, and Ctrl-C `KeyboardInterrupt`, so the run unwinds at once: a warehouse transaction in flight rolls
back, no file moves, the lease is released, the next run finishes the rest. A library may swallow that
exception: DuckDB's Python client turns an exception raised by a signal handler during a query into
`RuntimeError("Query interrupted")`. So the stop is also remembered, and `check()` raises it again before each
load and each settling of files; any error that ends the block after a stop, or a block that ends normally
after one, ends as the stop too. Later SIGTERMs are ignored, so cleanup ends; a second Ctrl-C interrupts it.

Signals reach the main thread only. Other threads learn of the stop from `asked()` and `wait(seconds)` (an
event: a load thread waiting on the warehouse sleeps with `wait`, never `time.sleep`, and ends at the stop),
and the main thread never waits for a thread that may be stuck in a library's call: a pool made by `threads()`
is not joined once a stop is asked. What the stopped run still does (its history, its lease) has `GRACE`
seconds from the stop; `leave()` then ends the process without joining threads still inside a call, which
the interpreter would otherwise wait for (ending them is no worse than the SIGKILL that would follow, which
the crash tests prove safe).

`at_start()`, in the command's entry point, makes a SIGTERM that comes earlier (plugin loading, settings)
raise `Terminated` too, so the command exits 143 instead of dying by the signal."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import NoReturn

GRACE = 5.0  # seconds from a stop to the end of the process, whatever a thread is stuck in
STOP_CODES = (143, 130)  # the exit codes of a stop: SIGTERM, Ctrl-C

_asked: list[type[BaseException]] = []  # the stop of the run in progress: Terminated or KeyboardInterrupt
_event = threading.Event()  # set at a stop, cleared as the next run begins: what other threads see


class Terminated(BaseException):
    """SIGTERM arrived: unwinds the run like Ctrl-C, past `except Exception`."""


_last: list[tuple[type[BaseException], float]] = [(Terminated, 0.0)]  # the last stop asked, and when (monotonic)


def _ask(stop: type[BaseException]) -> None:
    _asked.append(stop)
    _last[0] = (stop, time.monotonic())
    _event.set()


def check() -> None:
    """Raise the stop asked, if any: in the main thread while `honoured()` holds, in any other thread until
    the next run begins (a stopped run's threads, left running, see it)."""
    if _asked:
        raise _asked[0]()
    if _event.is_set() and threading.current_thread() is not threading.main_thread():
        raise _last[0][0]()


def asked() -> bool:
    """Whether a stop was asked (and no run began since)."""
    return _event.is_set()


def wait(seconds: float) -> bool:
    """Sleep up to `seconds`, less if a stop is asked meanwhile; whether one is."""
    return _event.wait(max(seconds, 0.0))


def grace_left() -> float:
    """Seconds left of the stop's `GRACE` (all of it while no stop is asked)."""
    if not asked():
        return GRACE
    return max(GRACE - (time.monotonic() - _last[0][1]), 0.0)


def _on_sigterm(signum: int, frame: object) -> None:
    """The first SIGTERM: remembered and raised as `Terminated` in the main thread; later ones are ignored."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _ask(Terminated)
    raise Terminated()


def at_start() -> None:
    """From now on, the first SIGTERM raises `Terminated` in the main thread (later ones are ignored)."""
    signal.signal(signal.SIGTERM, _on_sigterm)


@contextmanager
def honoured() -> Iterator[None]:
    """While the block runs, SIGTERM and Ctrl-C stop it; the block ends in the stop whenever one was asked,
    whatever became of the exception first raised (a stop asked before it, at start-up, ends it at once)."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def on_sigint(signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _ask(KeyboardInterrupt)
        raise KeyboardInterrupt()

    previous = signal.signal(signal.SIGTERM, _on_sigterm), signal.signal(signal.SIGINT, on_sigint)
    try:
        check()  # asked at start-up
        _event.clear()  # a run begins: an earlier stopped run's threads are on their own
        yield
        check()
    except Exception as error:  # whatever a stop interrupted (a query, a request) is told as the stop it was
        if _asked:
            raise _asked[0]() from error
        raise
    finally:
        for signum, handler in zip((signal.SIGTERM, signal.SIGINT), previous, strict=True):
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)  # (None: set outside Python)
        _asked.clear()  # (the event stays set for this run's threads still running)


@contextmanager
def threads(workers: int, name: str) -> Iterator[ThreadPoolExecutor]:
    """A thread pool, shut down as the block ends: its threads are joined, unless the block ends by a stop
    (or after one): then calls not begun are cancelled and those running are left to end by themselves."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
    try:
        yield pool
    finally:
        stopped = asked()
        pool.shutdown(wait=not stopped, cancel_futures=stopped)


def leave(code: int | str | None) -> NoReturn:
    """Exit with `code`. After a stop, threads still running (inside a call to a server that does not answer)
    get what is left of the grace to end; then the process ends without waiting for them (`os._exit`)."""
    if code not in STOP_CODES:
        sys.exit(code)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the stop is being carried out
    end = _last[0][1] + GRACE
    stray = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    for thread in stray:
        thread.join(max(end - time.monotonic(), 0.0))
    left = [t.name for t in stray if t.is_alive()]
    if not left:
        sys.exit(code)
    logging.getLogger("ingestor").warning("ending with %d thread(s) still in a call: %s", len(left), ", ".join(left))
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)
