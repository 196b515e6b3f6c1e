"""The run's result as `--json` prints it off a terminal: the model's own JSON, byte for byte, written in pieces
(a backlog's result, ~300 bytes a file, is never held as one text)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingestor import result as module
from ingestor.result import FileOutcome, FileStatus, IngestResult, TableLoad


def _result(files: int) -> IngestResult:
    outcomes = [
        FileOutcome(path=f"acme/landing/{n}.jsonl", service="acme", status=FileStatus.LOADED, rows=n, notes=["é"])
        for n in range(files)
    ]
    table = TableLoad(service="acme", data_type="events", table="lake.events", files=files, rows=0)
    started = datetime(2025, 1, 1, tzinfo=UTC)
    return IngestResult(
        run_id="r",
        services=["acme"],
        env="dev",
        landing="l",
        warehouse="w",
        started_at=started,
        files=outcomes,
        tables=[table],
    )


@pytest.mark.parametrize("files", [0, 1, 2, 5])
def test_the_json_in_pieces_is_the_results_json(monkeypatch: pytest.MonkeyPatch, files: int) -> None:
    monkeypatch.setattr(module, "OUTCOMES_AT_ONCE", 2)
    result = _result(files)
    pieces = list(result.json_pieces())
    assert len(pieces) == 2 + (files + 1) // 2  # the outcomes two at a time
    assert b"".join(pieces) == result.model_dump_json().encode()
