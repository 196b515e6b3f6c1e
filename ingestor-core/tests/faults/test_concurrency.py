"""Two runs on one landing zone at once never load a file twice: the lease (ingestor/run/lease.py), DuckDB's own file
lock, both reported as "busy" (exit 75) with a clear message; a crashed holder's lease is taken over."""

from __future__ import annotations

import signal
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from ingestor.landing import Landing
from ingestor.landing.local import LocalLanding
from ingestor.run.lease import Lease, LeaseBusy, acquire, lease_name, release, renew

from .conftest import SERVICE, Zone, wait_stopped

pytestmark = pytest.mark.timeout(120)
BUSY = 75
LEASE = f"{SERVICE}/_state/lease.json"


def _tree(zone: Zone) -> dict[str, bytes]:
    base = zone.landing / SERVICE
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def test_a_second_run_is_busy_while_the_first_works(zone: Zone) -> None:
    zone.standard_corpus()
    first = zone.start(fault="after_stage:1:STOP")  # holds the lease and the DuckDB file, frozen
    try:
        wait_stopped(first)
        before = _tree(zone)
        held = orjson.loads((zone.landing / LEASE).read_bytes())
        assert held["pid"] == first.pid and held["host"] == socket.gethostname() and held["run_id"]
        # Same warehouse: DuckDB refuses a second writer; reported as busy, not a stack trace.
        same = zone.run()
        assert same.returncode == BUSY and "busy" in same.stderr and "in use by another process" in same.stderr
        assert "Traceback" not in same.stderr
        # Another warehouse, same landing zone: the lease refuses it.
        other = zone.run("--warehouse", f"duckdb://{zone.root / 'other.duckdb'}")
        assert other.returncode == BUSY and f"{LEASE} is held by run {held['run_id']}" in other.stderr
        assert "Traceback" not in other.stderr
        assert _tree(zone) == before  # neither touched anything
    finally:
        first.send_signal(signal.SIGCONT)
        first.communicate(timeout=60)
    assert first.returncode == 1  # it went on (a file was rejected)
    zone.check()
    assert zone.rows(zone.root / "other.duckdb") == []


def test_a_waiting_run_goes_on_when_the_first_ends(zone: Zone) -> None:
    zone.standard_corpus()
    first = zone.start(fault="after_stage:1:STOP")
    wait_stopped(first)
    same = zone.start(INGESTOR_LEASE_WAIT="30")  # waits for the DuckDB file
    other = zone.start("--warehouse", f"duckdb://{zone.root / 'other.duckdb'}", INGESTOR_LEASE_WAIT="30")  # lease
    try:
        with pytest.raises(Exception, match="timed out"):
            same.wait(timeout=1.0)
        assert other.poll() is None
    finally:
        first.send_signal(signal.SIGCONT)
    for process in (first, same, other):
        process.communicate(timeout=60)
    assert first.returncode == 1 and same.returncode == 0 and other.returncode == 0
    zone.check(databases=[zone.database, zone.root / "other.duckdb"])


def test_runs_started_together_share_the_work_once(zone: Zone) -> None:
    """Three runs at once, each with its own warehouse (so only the lease separates them), twice."""
    for day in range(1, 9):
        zone.land_valid(f"2025_03_{day:02d}_fz_events.jsonl", 50)
        zone.land_valid(f"2025_03_{day:02d}_fz_metrics.jsonl", 20)
    databases = [zone.root / f"w{i}.duckdb" for i in range(3)]
    for _round in range(2):
        processes = [zone.start("--warehouse", f"duckdb://{db}") for db in databases]
        codes = [p.wait(timeout=60) for p in processes]
        for p in processes:
            p.communicate(timeout=10)
        assert set(codes) <= {0, BUSY} and 0 in codes, codes
    zone.check(databases=databases)


def test_a_dead_holders_lease_is_taken_over(zone: Zone) -> None:
    zone.standard_corpus()
    assert zone.run(fault="after_commit:1").returncode == -signal.SIGKILL
    assert (zone.landing / LEASE).exists()
    done = zone.run_to_completion()
    assert "took over the stale lease" in done.stderr
    zone.check()


def _foreign_lease(zone: Zone, expires_in: float) -> None:
    """A lease written by a run on another host (its process cannot be checked from here)."""
    now = datetime.now(UTC)
    path = zone.landing / LEASE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        orjson.dumps(
            {
                "owner": "elsewhere:1",
                "host": "elsewhere",
                "pid": 1,
                "run_id": "r-foreign",
                "acquired_at": now.isoformat(),
                "expires_at": (now + timedelta(seconds=expires_in)).isoformat(),
            }
        )
    )


def test_another_hosts_lease_is_respected_until_it_expires(zone: Zone) -> None:
    zone.standard_corpus()
    _foreign_lease(zone, 3600)
    busy = zone.run()
    assert busy.returncode == BUSY and "held by run r-foreign of elsewhere:1" in busy.stderr
    assert len(zone.files("landing")) == 7
    _foreign_lease(zone, -1)
    zone.run_to_completion()
    zone.check()


# -- the lease itself, in process (the same on GCS: tests/cloud/test_gcs_landing.py) ------------------------------
def created_renewed_released(landing: Landing, name: str) -> None:
    """A lease is created once (a second run is busy), renewed, and released."""
    lease = acquire(landing, name, "run-a", ttl=60, wait=0)
    with pytest.raises(LeaseBusy, match="held by run run-a"):
        acquire(landing, name, "run-b", ttl=60, wait=0.3)
    renew(lease)
    assert not lease.lost and orjson.loads(landing.read(name) or b"")["run_id"] == "run-a"
    release(lease)
    assert landing.read(name) is None


def taken_over_after_expiry(landing: Landing, name: str) -> None:
    """An expired lease is taken over, and its old holder neither renews nor releases it then."""
    old = acquire(landing, name, "run-old", ttl=0.05, wait=0)
    time.sleep(0.1)
    new = acquire(landing, name, "run-new", ttl=60, wait=0)
    renew(old)
    assert old.lost
    release(old)  # must not remove the new holder's lease
    assert orjson.loads(landing.read(name) or b"")["run_id"] == "run-new"
    release(new)
    assert landing.read(name) is None


def test_create_only_renew_and_release(tmp_path: Path) -> None:
    created_renewed_released(LocalLanding(tmp_path), LEASE)
    assert not (tmp_path / SERVICE / "_state").exists()
    assert lease_name(SERVICE, 1, 3) == f"{SERVICE}/_state/lease.1-of-3.json"  # shards of one job never collide


def test_a_lease_taken_over_after_expiry_is_not_released_by_its_old_holder(tmp_path: Path) -> None:
    taken_over_after_expiry(LocalLanding(tmp_path), LEASE)


def test_racing_take_overs_of_one_stale_lease_have_one_winner(tmp_path: Path) -> None:
    landing = LocalLanding(tmp_path)
    acquire(landing, LEASE, "run-dead", ttl=0.01, wait=0)
    time.sleep(0.05)
    winners: list[Lease] = []
    losers: list[str] = []
    start = threading.Barrier(8)

    def contend(i: int) -> None:
        start.wait()
        try:
            winners.append(acquire(landing, LEASE, f"run-{i}", ttl=60, wait=0))
        except LeaseBusy as error:
            losers.append(str(error))

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(winners) == 1 and len(losers) == 7, (winners, losers)
    assert orjson.loads(landing.read(LEASE) or b"")["run_id"] == winners[0].run_id
