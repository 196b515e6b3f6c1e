"""One run at a time per service and landing zone: a lease object in the landing zone itself.

A run holds `{service}/_state/lease.json` (`lease.{i}-of-{n}.json` for task i of an n-task job, whose
shards never overlap) from before the scan until its end. It is created exclusively (`Landing.write(...,
create_only=True)`: a hard link locally, `if_generation_match=0` on GCS) and says who holds it: owner
(host:pid), run id, acquisition and expiry time. A heartbeat thread renews it every third of its time to
live. A lease whose expiry has passed (its holder crashed) is taken over; locally, so is one whose holder
process, on this host, is gone. Removal (release, take-over) is conditional on the content being the one
expected (an `fcntl` lock locally, a generation precondition on GCS), so a run never removes a lease
another run holds. Dry runs take no lease (they write nothing), nor does a local service without a landing
folder (nothing to scan).

Environment: `INGESTOR_LEASE_WAIT` (seconds to wait for a busy lease or warehouse, default 0: give up at
once), `INGESTOR_LEASE_TTL` (seconds, default 900). A run that cannot get its lease (or whose DuckDB file
is open in another process) exits with `EXIT_BUSY` (75, EX_TEMPFAIL) and changes nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from ingestor.context import RunContext
    from ingestor.landing import Landing
    from ingestor.settings import Settings
    from ingestor.warehouse import Warehouse

log = logging.getLogger("ingestor.lease")
ENV_WAIT, ENV_TTL = "INGESTOR_LEASE_WAIT", "INGESTOR_LEASE_TTL"
EXIT_BUSY = 75
POLL = 0.25


class LeaseBusy(RuntimeError):
    """Another run holds the lease of a service (or the warehouse): try again later."""


@dataclass
class Lease:
    """A lease this process holds."""

    landing: Landing
    name: str
    run_id: str
    ttl: float
    body: bytes
    lost: bool = field(default=False)


def lease_name(service: str, task_index: int = 0, task_count: int = 1) -> str:
    """The lease object of a service (of one shard of it)."""
    suffix = f".{task_index}-of-{task_count}" if task_count > 1 else ""
    return f"{service}/_state/lease{suffix}.json"


def _body(run_id: str, ttl: float) -> bytes:
    now = datetime.now(UTC)
    return orjson.dumps(
        {
            "owner": f"{socket.gethostname()}:{os.getpid()}",
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "run_id": run_id,
            "acquired_at": now.isoformat(),
            "expires_at": (now + timedelta(seconds=ttl)).isoformat(),
        },
        option=orjson.OPT_INDENT_2,
    )


def _describe(data: bytes) -> str:
    try:
        held = orjson.loads(data)
        return f"run {held['run_id']} of {held['owner']} (expires {held['expires_at']})"
    except Exception:
        return "an unreadable lease"


def _is_local(landing: Landing) -> bool:
    return type(landing).__name__ == "LocalLanding"


def _stale(landing: Landing, data: bytes) -> bool:
    """Expired, unreadable, or (locally) held by a process of this host that no longer exists."""
    try:
        held = orjson.loads(data)
        if datetime.fromisoformat(held["expires_at"]) <= datetime.now(UTC):
            return True
        if _is_local(landing) and held["host"] == socket.gethostname() and held["pid"] != os.getpid():
            os.kill(int(held["pid"]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    except Exception:
        return True
    return False


@contextlib.contextmanager
def _local_lock(landing: Landing) -> Iterator[None]:
    """Locally, an exclusive `fcntl` lock on the landing root (which always exists) for every lease change
    on this host; elsewhere, nothing (GCS preconditions do that work)."""
    if not _is_local(landing):
        yield
        return
    import fcntl

    fd = os.open(landing.root, os.O_RDONLY)  # type: ignore[attr-defined]
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _swap(landing: Landing, name: str, expected: bytes, new: bytes | None) -> bool:
    """Replace (or, with `new` None, remove) the lease only if its content is still `expected`."""
    if _is_local(landing):
        path = landing._path(name)  # type: ignore[attr-defined]
        with _local_lock(landing):
            try:
                if path.read_bytes() != expected:
                    return False
            except FileNotFoundError:
                return new is None
            if new is not None:
                landing.write(name, new)
                return True
            path.unlink()
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # leave no `_state/` folder behind when it is empty
            return True
    bucket = getattr(landing, "bucket", None)
    if bucket is None or not hasattr(landing, "_key"):
        raise LeaseBusy(f"{landing.url}: this landing backend cannot release or take over a lease")
    from google.api_core.exceptions import NotFound, PreconditionFailed

    key = landing._key(name)
    blob = bucket.get_blob(key)
    if blob is None:
        return new is None
    try:
        if blob.download_as_bytes(if_generation_match=blob.generation) != expected:
            return False
        if new is None:
            bucket.delete_blob(key, if_generation_match=blob.generation)
        else:
            bucket.blob(key).upload_from_string(new, if_generation_match=blob.generation)
    except NotFound:
        return new is None
    except PreconditionFailed:
        return False
    return True


def acquire(landing: Landing, name: str, run_id: str, *, ttl: float, wait: float) -> Lease:
    """Create the lease, taking over a stale one; wait up to `wait` seconds for a live one, then LeaseBusy."""
    deadline, quick = time.monotonic() + wait, 3  # a few immediate retries after a release or take-over
    while True:
        body = _body(run_id, ttl)
        with _local_lock(landing):
            created = landing.write(name, body, create_only=True)
        if created:
            return Lease(landing, name, run_id, ttl, body)
        current = landing.read(name)
        if current == body:  # ours after all: a retried create whose first attempt had succeeded
            return Lease(landing, name, run_id, ttl, body)
        if current is not None and _stale(landing, current) and _swap(landing, name, current, None):
            log.warning("%s: took over the stale lease of %s", name, _describe(current))
        if (current is None or _stale(landing, current)) and quick > 0:
            quick -= 1
            continue
        if time.monotonic() >= deadline:
            held_by = _describe(current) if current is not None else "another run"
            raise LeaseBusy(
                f"{name} is held by {held_by}; another run is working on this service (set {ENV_WAIT} to wait for it)"
            )
        time.sleep(min(POLL, max(deadline - time.monotonic(), 0.0)))


def release(lease: Lease) -> None:
    """Remove the lease if it is still ours (never raises)."""
    try:
        if not _swap(lease.landing, lease.name, lease.body, None):
            log.error("%s: the lease was no longer ours at release (taken over after expiry?)", lease.name)
    except Exception as error:
        log.error("%s: could not release the lease (it expires by itself): %s", lease.name, error)


def renew(lease: Lease) -> None:
    """Push the expiry forward; mark the lease lost if another run has taken it."""
    body = _body(lease.run_id, lease.ttl)
    if _swap(lease.landing, lease.name, lease.body, body):
        lease.body = body
    else:
        lease.lost = True
        log.error("%s: lost the lease to another run", lease.name)


def _heartbeat(leases: list[Lease], stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        for lease in leases:
            if lease.lost:
                continue
            try:
                renew(lease)
            except Exception as error:
                log.warning("%s: could not renew the lease: %s", lease.name, error)


@contextlib.contextmanager
def held(context: RunContext, services: list[str]) -> Iterator[list[Lease]]:
    """Hold the leases of `services` (acquired in name order) for the duration of the block."""
    if context.dry_run:
        yield []
        return
    ttl, wait = context.settings.lease.ttl, context.settings.lease.wait
    leases: list[Lease] = []
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(leases, stop, ttl / 3), name="ingestor-lease", daemon=True)
    try:
        for service in sorted(set(services)):
            if _is_local(context.landing) and not _local_folder(context.landing, f"{service}/landing"):
                continue  # nothing to scan, and no folder to create (or one the scan refuses)
            name = lease_name(service, context.task_index, context.task_count)
            leases.append(acquire(context.landing, name, context.run_id, ttl=ttl, wait=wait))
        beat.start()
        yield leases
    finally:
        stop.set()
        if beat.is_alive():
            beat.join(timeout=5)
        for lease in reversed(leases):
            release(lease)


def _local_folder(landing: Landing, name: str) -> bool:
    """Whether a local landing zone has this folder inside its root."""
    from ingestor.landing import UnsafeName

    try:
        return bool(landing._path(name).is_dir())  # type: ignore[attr-defined]
    except UnsafeName:
        return False


def is_lock_conflict(error: BaseException) -> bool:
    """Whether a warehouse refused to open because another process holds it (DuckDB's file lock)."""
    text = str(error)
    return "Could not set lock" in text or "Conflicting lock" in text


def open_warehouse(url: str, settings: Settings, read_only: bool = False) -> Warehouse:
    """`ingestor.warehouse.open_warehouse`, waiting up to `INGESTOR_LEASE_WAIT` while another process holds
    the (DuckDB) file, then LeaseBusy."""
    from ingestor.warehouse import LoadError
    from ingestor.warehouse import open_warehouse as open_

    deadline = time.monotonic() + settings.lease.wait
    while True:
        try:
            return open_(url, settings, read_only=read_only)
        except LoadError as error:
            if not is_lock_conflict(error):
                raise
            if time.monotonic() >= deadline:
                raise LeaseBusy(
                    f"the warehouse {url} is in use by another process ({str(error)[-160:]}); "
                    f"another run is probably working (set {ENV_WAIT} to wait for it)"
                ) from None
        time.sleep(POLL)
