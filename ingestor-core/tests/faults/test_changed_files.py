"""A file changed during a run, as it was first found:
the real `ingestor run`, frozen (SIGSTOP) once staging has read every
file, each file appended to (or one overwritten) meanwhile, then let go. No record may be archived unloaded, none
loaded twice; the next run loads what is left."""

from __future__ import annotations

import json
import signal
from collections import Counter

import pytest

from .conftest import SERVICE, Zone, wait_stopped

pytestmark = pytest.mark.timeout(180)


def test_files_appended_to_while_the_run_is_frozen_are_left_for_the_next_run(zone: Zone) -> None:
    names = [f"2025_01_{d:02d}_fz_events.jsonl" for d in range(1, 21)]
    for name in names:
        zone.land_valid(name, 200)
    first = zone.start(fault="after_stage:1:STOP")
    try:
        wait_stopped(first)
        for name in names:  # a fetcher still writing: two more records each
            more = zone.land_valid(f"more/{name}", 2)  # (fresh uids, recorded as expected)
            moved = zone.landing / SERVICE / "landing" / "more" / name
            with (zone.landing / SERVICE / "landing" / name).open("ab") as out:
                out.write(moved.read_bytes())
            moved.unlink()
            del zone.expect.valid[f"more/{name}"]
            zone.expect.valid[name] += more
    finally:
        first.send_signal(signal.SIGCONT)
        out, err = first.communicate(timeout=60)
    assert first.returncode == 1, err[-2000:]
    assert sorted(zone.files("landing")) == names  # none archived with records nobody loaded
    assert "changed after it was read" in err
    changed = {f["reason_code"] for f in json.loads(out)["files"] if f["status"] == "failed"}
    assert changed == {"changed_during_run"}
    zone.run_to_completion()
    assert zone.files("landing") == [] and sorted(zone.files("archive")) == names
    rows = zone.rows()
    assert max(Counter(uid for uid, _ in rows).values()) == 1  # nothing twice
    assert sorted(uid for uid, _ in rows) == sorted(u for uids in zone.expect.valid.values() for u in uids)
    for name in names:  # the archived file is the whole file, every record of it loaded
        archived = (zone.landing / SERVICE / "archive" / name).read_bytes()
        assert archived.count(b"\n") == 202
    assert sorted(zone.ledger()) == sorted([(f"{SERVICE}/landing/{n}", r) for n in names for r in (200, 2)])
    assert zone.run_to_completion().returncode == 0 and len(zone.rows()) == 20 * 202  # a third run: nothing
