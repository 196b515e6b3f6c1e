"""One run at a time per service and landing zone: a lease object in the landing zone itself.

A run holds `{service}/_state/lease.json` (`lease.{i}-of-{n}.json` for task i of an n-task job, whose
shards never overlap) from before the scan until its end. The lease works through the landing protocol's
conditional primitives only: it is made with `Landing.create` (never over another run's lease), renewed
by a heartbeat thread every third of its time to live with `Landing.replace` (a compare-and-swap on the
version this run wrote), and released with `Landing.delete` of that version, so a run never overwrites
or removes a lease another run holds. It says who holds it: owner (host:pid), run id, acquisition and
expiry time. A lease whose expiry has passed (its holder crashed) is taken over by a compare-and-swap
on the version read (of runs racing for it, one wins); in a local landing zone, so is one whose holder
process, on this host, is gone. Dry runs take no lease (they write nothing), nor does a service without
a landing folder (`Landing.is_folder`: nothing to scan).

Settings (`LeaseSettings`): `wait` (`INGESTOR_LEASE_WAIT`, seconds to wait for a busy lease or warehouse,
default 0: give up at once), `ttl` (`INGESTOR_LEASE_TTL`, seconds, default 900). A run that cannot get its
lease (or whose DuckDB file is open in another process) exits with `EXIT_BUSY` (75, EX_TEMPFAIL) and
changes nothing.
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

from ingestor.errors import TransientError

if TYPE_CHECKING:
    from ingestor.landing import Landing
    from ingestor.settings import LeaseSettings, Settings
    from ingestor.warehouse import Warehouse

log = logging.getLogger("ingestor.run.lease")
ENV_WAIT = "INGESTOR_LEASE_WAIT"  # named in messages: the setting a user can raise
EXIT_BUSY = 75
POLL = 0.25


class LeaseBusy(TransientError, RuntimeError):
    """Another run holds the lease of a service (or the warehouse): try again later."""


@dataclass
class Lease:
    """A lease this process holds, at the version it last wrote."""

    landing: Landing
    name: str
    run_id: str
    ttl: float
    version: str
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
    except (ValueError, KeyError, TypeError):  # not JSON, a field missing, not an object
        return "an unreadable lease"


def _stale(landing: Landing, data: bytes) -> bool:
    """Expired, unreadable, or (in a local zone) held by a process of this host that no longer exists."""
    try:
        held = orjson.loads(data)
        if datetime.fromisoformat(held["expires_at"]) <= datetime.now(UTC):
            return True
        if landing.local and held["host"] == socket.gethostname() and held["pid"] != os.getpid():
            os.kill(int(held["pid"]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    except (ValueError, KeyError, TypeError, OverflowError):  # unreadable: not JSON, a field missing or of another type
        return True
    return False


def _written(landing: Landing, name: str, body: bytes) -> str | None:
    """The version of `name` if it holds `body`: a retried write whose first attempt had succeeded."""
    current = landing.read_versioned(name)
    return current.version if current is not None and current.data == body else None


def acquire(landing: Landing, name: str, run_id: str, *, ttl: float, wait: float) -> Lease:
    """Create the lease, taking over a stale one; wait up to `wait` seconds for a live one, then LeaseBusy."""
    deadline, quick = time.monotonic() + wait, 3  # a few immediate retries after a release or take-over
    while True:
        body = _body(run_id, ttl)
        version = landing.create(name, body)
        if version is not None:
            return Lease(landing, name, run_id, ttl, version)
        current = landing.read_versioned(name)
        if current is not None and current.data == body:  # ours after all (a retried create)
            return Lease(landing, name, run_id, ttl, current.version)
        stale = current is not None and _stale(landing, current.data)
        if current is not None and stale:
            version = landing.replace(name, body, current.version) or _written(landing, name, body)
            if version is not None:
                log.warning("%s: took over the stale lease of %s", name, _describe(current.data))
                return Lease(landing, name, run_id, ttl, version)
        if (current is None or stale) and quick > 0:  # released, or taken over by another run, meanwhile
            quick -= 1
            continue
        if time.monotonic() >= deadline:
            held_by = _describe(current.data) if current is not None else "another run"
            raise LeaseBusy(
                f"{name} is held by {held_by}; another run is working on this service (set {ENV_WAIT} to wait for it)"
            )
        time.sleep(min(POLL, max(deadline - time.monotonic(), 0.0)))


def release(lease: Lease) -> None:
    """Remove the lease if it is still ours (never raises)."""
    try:
        if not lease.landing.delete(lease.name, lease.version):
            log.error("%s: the lease was no longer ours at release (taken over after expiry?)", lease.name)
    except Exception as error:  # any error of the landing zone's client: the lease expires by itself
        log.error("%s: could not release the lease (it expires by itself): %s", lease.name, error)


def renew(lease: Lease) -> None:
    """Push the expiry forward; mark the lease lost if another run has taken it."""
    body = _body(lease.run_id, lease.ttl)
    version = lease.landing.replace(lease.name, body, lease.version) or _written(lease.landing, lease.name, body)
    if version is not None:
        lease.version = version
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
            except Exception as error:  # any error of the landing zone's client: the next renewal is the retry
                log.warning("%s: could not renew the lease: %s", lease.name, error)


@contextlib.contextmanager
def held(
    landing: Landing,
    services: list[str],
    *,
    run_id: str,
    task_index: int,
    task_count: int,
    settings: LeaseSettings,
    dry_run: bool,
    without_landing: bool = False,
) -> Iterator[list[Lease]]:
    """Hold the leases of `services` (acquired in name order) for the duration of the block; `without_landing`:
    also of a service without a landing folder (a rebuild reads its archive)."""
    if dry_run:
        yield []
        return
    leases: list[Lease] = []
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(leases, stop, settings.ttl / 3), name="ingestor-lease", daemon=True
    )
    try:
        for service in sorted(set(services)):
            if not without_landing and not landing.is_folder(f"{service}/landing"):
                continue  # nothing to scan, and no folder to create (or one the scan refuses)
            name = lease_name(service, task_index, task_count)
            leases.append(acquire(landing, name, run_id, ttl=settings.ttl, wait=settings.wait))
        beat.start()
        yield leases
    finally:
        stop.set()
        if beat.is_alive():
            beat.join(timeout=5)
        for lease in reversed(leases):
            release(lease)


def open_warehouse(url: str, settings: Settings, read_only: bool = False) -> Warehouse:
    """`ingestor.warehouse.open_warehouse`, waiting up to `settings.lease.wait` seconds while another
    process holds the (DuckDB) file, then LeaseBusy."""
    from ingestor.warehouse import WarehouseBusy
    from ingestor.warehouse import open_warehouse as open_

    deadline = time.monotonic() + settings.lease.wait
    while True:
        try:
            return open_(url, settings, read_only=read_only)
        except WarehouseBusy as error:
            if time.monotonic() >= deadline:
                raise LeaseBusy(
                    f"the warehouse {url} is in use by another process; another run is probably working "
                    f"(set {ENV_WAIT} to wait for it). {' '.join(str(error).split())}"  # DuckDB's words, whole
                ) from None
        time.sleep(POLL)
