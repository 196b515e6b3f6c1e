"""The lease: one run at a time per service and landing zone, through the landing zone's conditional
primitives only. The real local landing zone; the other run is this process under another run id, or a
process that no longer exists."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from ingestor.landing.local import LocalLanding
from ingestor.run.lease import LeaseBusy, acquire, held, lease_name, release, renew
from ingestor.settings import LeaseSettings


@pytest.fixture
def landing(tmp_path: Path) -> LocalLanding:
    (tmp_path / "acme" / "landing").mkdir(parents=True)
    return LocalLanding(tmp_path)


def holder(landing: LocalLanding, name: str) -> dict:  # type: ignore[type-arg]
    current = landing.read_versioned(name)
    assert current is not None
    return orjson.loads(current.data)  # type: ignore[no-any-return]


def test_a_second_run_is_refused_while_the_first_holds_the_lease(landing: LocalLanding) -> None:
    name = lease_name("acme")
    first = acquire(landing, name, "run-1", ttl=60, wait=0)
    with pytest.raises(LeaseBusy, match=r"run-1.*INGESTOR_LEASE_WAIT"):
        acquire(landing, name, "run-2", ttl=60, wait=0)
    release(first)
    assert landing.read_versioned(name) is None
    second = acquire(landing, name, "run-2", ttl=60, wait=0)
    assert holder(landing, name)["run_id"] == "run-2"
    release(second)


def test_an_expired_lease_is_taken_over(landing: LocalLanding) -> None:
    name = lease_name("acme")
    acquire(landing, name, "crashed", ttl=0.01, wait=0)  # never released: its holder "crashed"
    time.sleep(0.05)
    taken = acquire(landing, name, "run-2", ttl=60, wait=0)
    assert holder(landing, name)["run_id"] == "run-2"
    release(taken)


def test_a_lease_whose_local_holder_process_is_gone_is_taken_over(landing: LocalLanding) -> None:
    name = lease_name("acme")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lease = acquire(landing, name, "dead", ttl=3600, wait=0)
    body = orjson.loads(landing.read_versioned(name).data)  # type: ignore[union-attr]
    body["pid"] = int(gone.stdout)
    assert landing.replace(name, orjson.dumps(body), lease.version) is not None
    taken = acquire(landing, name, "run-2", ttl=3600, wait=0)
    assert holder(landing, name)["run_id"] == "run-2"
    release(taken)


def test_release_never_removes_a_lease_another_run_took_over(landing: LocalLanding) -> None:
    name = lease_name("acme")
    old = acquire(landing, name, "slow", ttl=0.01, wait=0)
    time.sleep(0.05)
    new = acquire(landing, name, "run-2", ttl=60, wait=0)  # takes over the expired lease
    release(old)  # the slow run ends: its release finds another version
    assert holder(landing, name)["run_id"] == "run-2"
    renew(old)
    assert old.lost and holder(landing, name)["run_id"] == "run-2"
    release(new)


def test_renewal_pushes_the_expiry_forward(landing: LocalLanding) -> None:
    name = lease_name("acme")
    lease = acquire(landing, name, "run-1", ttl=60, wait=0)
    before = holder(landing, name)["expires_at"]
    time.sleep(0.01)
    renew(lease)
    assert not lease.lost and holder(landing, name)["expires_at"] > before
    release(lease)


def test_held_takes_each_service_with_a_landing_folder_and_releases_them(landing: LocalLanding) -> None:
    (landing.root / "other" / "landing").mkdir(parents=True)
    settings = LeaseSettings(wait=0, ttl=60)
    with held(
        landing, ["other", "acme", "none"], run_id="r", task_index=1, task_count=2, settings=settings, dry_run=False
    ) as leases:
        assert [lease.name for lease in leases] == ["acme/_state/lease.1-of-2.json", "other/_state/lease.1-of-2.json"]
        with pytest.raises(LeaseBusy):
            acquire(landing, leases[0].name, "r2", ttl=60, wait=0)
    assert landing.read_versioned("acme/_state/lease.1-of-2.json") is None
    assert not (landing.root / "none").exists()  # a service without a landing folder: no folder made


def test_a_dry_run_takes_no_lease(landing: LocalLanding) -> None:
    settings = LeaseSettings(wait=0, ttl=60)
    with held(landing, ["acme"], run_id="r", task_index=0, task_count=1, settings=settings, dry_run=True) as leases:
        assert leases == []
        release(acquire(landing, lease_name("acme"), "other", ttl=60, wait=0))  # free for anyone
