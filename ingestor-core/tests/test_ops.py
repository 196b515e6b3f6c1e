"""Metrics (a real Pushgateway push to a local HTTP server, a text file read by Prometheus' parser) and notifications
(apprise's JSON webhook to a local HTTP server). Neither ever changes a result or an exit code."""

from __future__ import annotations

import json
import socket
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pytest_httpserver import HTTPServer

from ingestor.run import faults
from ingestor.testing import Harness

from .test_status import DAILY

BEATS = "tick/landing/2025_01_01_tick_beats.jsonl"
BROKEN = "tick/landing/2025_01_02_tick_notes.jsonl"


@pytest.fixture
def tick(tmp_path) -> Harness:  # type: ignore[no-untyped-def]
    h = Harness(tmp_path, DAILY)
    h.land(BEATS, [{"n": 1}, {"n": 2}])
    h.land(BROKEN, "{oops\n")
    return h


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    matches = [v for (n, ls), v in found.items() if n == name and set(labels.items()) <= ls]
    assert len(matches) == 1, (name, labels, [k for k in found if k[0] == name])
    return matches[0]  # type: ignore[no-any-return]


def test_metrics_file_of_a_run(tick: Harness) -> None:
    path = tick.root / "ingestor.prom"
    assert tick.run("--service", "tick", "--metrics-file", str(path)).exit_code == 1
    found = samples(path.read_text())
    assert value(found, "ingestor_run_files", data_type="beats", status="loaded", env="dev") == 1
    assert value(found, "ingestor_run_files", data_type="notes", status="rejected", reason_code="malformed_line") == 1
    assert value(found, "ingestor_run_files", data_type="beats", status="loaded", reason_code="") == 1
    assert value(found, "ingestor_run_rows", table="tick_dev.beats") == 2
    assert (
        value(found, "ingestor_run_bytes", data_type="beats")
        == (tick.landing / "tick/archive").joinpath("2025_01_01_tick_beats.jsonl").stat().st_size
    )
    assert value(found, "ingestor_run_success", services="tick") == 0
    assert value(found, "ingestor_run_duration_seconds") > 0
    assert value(found, "ingestor_run_phase_seconds", data_type="beats", phase="load") >= 0
    assert value(found, "ingestor_rejected_files", data_type="notes") == 1
    assert value(found, "ingestor_landing_files", data_type="beats") == 0
    assert (
        abs(value(found, "ingestor_last_success_timestamp_seconds", data_type="beats") - datetime.now(UTC).timestamp())
        < 60
    )
    assert value(found, "ingestor_stale", data_type="beats") == 0
    assert not [k for k in found if k[0] == "ingestor_stale" and ("data_type", "notes") in k[1]]  # no expectation


def test_the_state_after_a_run_is_read_on_the_runs_own_landing_and_warehouse(
    tick: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backlog and freshness published after a run are read before its landing zone and warehouse close,
    on them: each is opened once per run (before: both opened again, and closed again, for the state)."""
    from ingestor import landing
    from ingestor.run import lease

    opened: list[str] = []
    open_landing, open_warehouse = landing.open_landing, lease.open_warehouse

    def counting_landing(*args: Any, **kwargs: Any) -> Any:
        opened.append("landing")
        return open_landing(*args, **kwargs)

    def counting_warehouse(*args: Any, **kwargs: Any) -> Any:
        opened.append("warehouse")
        return open_warehouse(*args, **kwargs)

    monkeypatch.setattr(landing, "open_landing", counting_landing)
    monkeypatch.setattr(lease, "open_warehouse", counting_warehouse)
    path = tick.root / "ingestor.prom"
    assert tick.run("--service", "tick", "--metrics-file", str(path)).exit_code == 1
    assert sorted(opened) == ["landing", "warehouse"]
    found = samples(path.read_text())  # the state, read after the run: the beats file archived, the notes rejected
    assert value(found, "ingestor_landing_files", data_type="beats") == 0
    assert value(found, "ingestor_rejected_files", data_type="notes") == 1
    assert value(found, "ingestor_stale", data_type="beats") == 0


def test_metrics_pushed_to_a_pushgateway(tick: Harness, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/metrics/job/ingestor_run/env/dev", method="PUT").respond_with_data("", status=200)
    assert tick.run("--service", "tick", "--metrics-push", httpserver.url_for("/")).exit_code == 1
    (request, _), *_ = httpserver.log
    found = samples(request.get_data(as_text=True))
    assert value(found, "ingestor_run_files", data_type="notes", status="rejected") == 1
    httpserver.check_assertions()


def test_status_pushes_its_state(tick: Harness, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/metrics/job/ingestor_status/env/dev", method="PUT").respond_with_data("")
    run = tick.cli("status", "--env", "dev", "--data-dir", str(tick.root), "--metrics-push", httpserver.url_for("/"))
    assert run.exit_code == 1  # beats never loaded: stale
    found = samples(httpserver.log[0][0].get_data(as_text=True))
    assert value(found, "ingestor_stale", data_type="beats") == 1
    assert value(found, "ingestor_landing_files", data_type="beats") == 1
    assert value(found, "ingestor_landing_oldest_age_seconds", data_type="beats") >= 0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_metrics_that_cannot_be_published_change_nothing(tick: Harness) -> None:
    run = tick.run("--service", "tick", "--metrics-push", f"http://127.0.0.1:{_closed_port()}",
                   "--metrics-file", str(tick.root / "no/such/folder/x.prom"))  # fmt: skip
    assert run.exit_code == 1  # as without metrics: a file was rejected
    assert "could not be pushed" in run.stderr and "could not be written" in run.stderr
    assert tick.files("tick/archive") == ["tick/archive/2025_01_01_tick_beats.jsonl"]


def test_a_rejected_file_is_notified(tick: Harness, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    url = f"json://{httpserver.host}:{httpserver.port}/hook"
    assert tick.run("--service", "tick", "--notify", url).exit_code == 1
    assert len(httpserver.log) == 1
    sent = json.loads(httpserver.log[0][0].get_data())
    assert sent["title"] == "ingestor [dev] tick: 1 rejected"
    assert "2 files, 1 loaded (2 rows), 1 rejected, 0 failed" in sent["message"]
    assert f"malformed_line: 1 file\n- {BROKEN}: malformed NDJSON at line 1" in sent["message"]
    assert sent["message"].endswith("See more: ingestor status --service tick --env dev")


def test_a_notification_groups_the_files_by_reason_code(tick: Harness, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    for day in range(3, 7):
        tick.land(f"tick/landing/2025_01_0{day}_tick_notes.jsonl", "{oops\n")
    tick.land("tick/landing/stray.txt", "hello")
    assert tick.run("--service", "tick", "--notify", f"json://{httpserver.host}:{httpserver.port}/hook").exit_code == 1
    message = json.loads(httpserver.log[0][0].get_data())["message"]
    lines = message.splitlines()
    malformed, unmatched = lines.index("malformed_line: 5 files"), lines.index("no_data_type: 1 file")
    assert malformed < unmatched  # the largest group first
    shown = [line.split(": malformed NDJSON at line 1")[0] for line in lines[malformed + 1 : unmatched]]
    assert shown == [
        f"- {BROKEN}",
        *(f"- tick/landing/2025_01_0{day}_tick_notes.jsonl" for day in (3, 4)),
        "- and 2 more",
    ]
    assert lines[unmatched + 1] == "- tick/landing/stray.txt: no data type matches"


def test_stale_types_are_notified_by_status(tick: Harness, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    env = {"INGESTOR_NOTIFY": f"json://{httpserver.host}:{httpserver.port}/hook", "INGESTOR_NOTIFY_ON": "stale"}
    assert tick.cli("status", "--env", "dev", "--data-dir", str(tick.root), env=env).exit_code == 1
    sent = json.loads(httpserver.log[0][0].get_data())
    assert sent["title"] == "ingestor [dev] tick: 1 stale"
    assert "- tick.beats: last loaded never, expected daily" in sent["message"]
    assert tick.run("--service", "tick", env=env).exit_code == 1  # notify only on stale: a rejected file sends nothing
    assert len(httpserver.log) == 1


def test_a_notification_that_cannot_be_sent_changes_nothing(tick: Harness, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("down", status=500)
    url = f"json://user:s3cr3t-token@{httpserver.host}:{httpserver.port}/hook"
    run = tick.run("--service", "tick", "--notify", url, "--json")
    assert run.exit_code == 1 and json.loads(run.stdout)["totals"]["rejected"] == 1
    assert "could not be sent" in run.stderr and "s3cr3t-token" not in run.stderr
    assert len(httpserver.log) >= 1  # it was tried
    unknown = tick.run("--service", "tick", "--notify", url, "--notify", "nosuchscheme://token@x")
    assert unknown.exit_code == 2 and "--notify URL #2 is not one apprise understands" in unknown.stderr
    assert "token" not in unknown.stderr


def test_notify_without_apprise_is_one_line_and_exit_2(tick: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)  # as if the [ops] extra were not installed
    run = tick.run("--service", "tick", "--notify", "json://localhost/x")
    assert (
        run.exit_code == 2 and run.stderr.strip() == "Error: --notify needs apprise: pip install 'ingestor-core[ops]'"
    )
    assert tick.files("tick/landing") == sorted([BEATS, BROKEN])  # nothing ran


def test_the_grafana_dashboard_uses_only_metrics_that_exist(tick: Harness) -> None:
    import re
    from pathlib import Path

    dashboard = json.loads((Path(__file__).resolve().parents[2] / "monitoring/grafana-dashboard.json").read_text())
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"ingestor_[a-z_]+", target["expr"])
    }
    path = tick.root / "ingestor.prom"
    tick.run("--service", "tick", "--metrics-file", str(path))
    emitted = {family.name for family in text_string_to_metric_families(path.read_text())}
    assert used and used <= emitted, used - emitted


def test_a_run_that_crashes_is_notified_and_still_fails(tick: Harness, httpserver: HTTPServer) -> None:
    """A failure of the whole run outside any file (here raised at the test-only fault point after staging)."""
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")

    def explode(point: str) -> None:
        raise RuntimeError("credentials expired\nsecond line")

    faults.install(explode)
    try:
        run = tick.run("--service", "tick", "--notify", f"json://{httpserver.host}:{httpserver.port}/hook")
    finally:
        faults.install(None)
    assert run.exit_code == 1 and isinstance(run.exception, RuntimeError)  # raised as without --notify
    sent = json.loads(httpserver.log[0][0].get_data())
    assert sent["title"] == "ingestor [dev] tick: run failed"
    assert "RuntimeError: credentials expired\n" in sent["message"] and "second line" not in sent["message"]
