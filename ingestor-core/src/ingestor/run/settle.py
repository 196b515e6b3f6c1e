"""Settling: decide each file's fate from its record (`fate.decide`) and carry it out. A file goes where
its outcome says (archive/ or rejected/, a rejected one with `<name>.reason.json` beside it), or stays in
landing; a dry run moves nothing. The one change settling may make to an outcome is here, in `_move`: a move
that fails, or a file that changed since it was listed, leaves the file in landing as FAILED."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import orjson

from ingestor.errors import ReasonCode
from ingestor.landing import FileChanged, Landing, LandingFile, printable, reason_name
from ingestor.result import FileOutcome, FileStatus
from ingestor.run import faults, stopping
from ingestor.run.fate import Happened, decide

log = logging.getLogger("ingestor.run.engine")


class Settler:
    """Decides each file's fate, moves it where its outcome says and reports the outcome once, as it settles;
    holds the run's outcomes, each in its file's place in scan order."""

    def __init__(self, landing: Landing, run_id: str, dry_run: bool, on_file: Callable[[FileOutcome], None]) -> None:
        self.landing = landing
        self.run_id = run_id
        self.dry_run = dry_run
        self.on_file = on_file
        self._outcomes: list[FileOutcome | None] = []  # in scan order; None: not settled (yet)

    def expect(self, records: Iterable[Happened]) -> None:
        """Give each record (in scan order) its place in the result."""
        for record in records:
            record.slot = len(self._outcomes)
            self._outcomes.append(None)

    @property
    def outcomes(self) -> list[FileOutcome]:
        """The outcomes of the files settled so far (all of a finished run), in scan order."""
        return [outcome for outcome in self._outcomes if outcome is not None]

    def settle(self, records: Iterable[Happened]) -> None:
        """Decide each file's fate and carry it out: moved several at once where the landing zone is remote,
        reported in order. Nothing moves once a stop was asked (the outcome may stem from it: a query it
        interrupted)."""
        stopping.check()
        pending = [(record, decide(record)) for record in records]
        workers = min(self.landing.concurrency, len(pending))
        if workers <= 1:
            for record, outcome in pending:
                self.report(self._move(record.file, outcome), record.slot)
            return
        with stopping.threads(workers, "ingestor-move") as pool:
            moved = list(pool.map(lambda item: self._move(item[0].file, item[1]), pending))
        for (record, _), outcome in zip(pending, moved, strict=True):
            self.report(outcome, record.slot)

    def report(self, outcome: FileOutcome, slot: int | None = None) -> None:
        """Log the outcome, keep it for the result (in its `slot`; None: after those expected so far) and tell
        the live callback."""
        log_at = logging.WARNING if outcome.status in {FileStatus.REJECTED, FileStatus.FAILED} else logging.INFO
        why = f" ({outcome.reason})" if outcome.reason else ""
        log.log(log_at, "%s: %s%s", outcome.path, outcome.status.value, why)
        if slot is None:
            self._outcomes.append(outcome)
        else:
            self._outcomes[slot] = outcome
        self.on_file(outcome)

    def _move(self, file: LandingFile, outcome: FileOutcome) -> FileOutcome:
        """The file moved where `outcome` says (unless dry run): the outcome with the name it got there,
        or FAILED when the move failed."""
        if self.dry_run or outcome.destination is None:
            return outcome
        rejected = outcome.status is FileStatus.REJECTED
        early: str | None = None  # the version of the reason written before the move, to withdraw if stray
        try:
            if rejected:  # before the move (a crash leaves no reasonless file), never over an earlier file's
                early = self.landing.create(reason_name(outcome.destination), self._reason(file, outcome))
            faults.checkpoint("before_move")
            try:
                moved_to = self.landing.move(file, outcome.destination)
            except Exception:  # whatever the move raised is told below; first its early reason is withdrawn
                self._withdraw(outcome.destination, early)  # the file stays: no reason of it in rejected/
                raise
            moved = dataclasses.replace(outcome, destination=moved_to)
            if rejected and (moved_to != outcome.destination or early is None):  # the early reason is not beside it
                self._explain(file, moved, outcome.destination, early)
            return moved
        except (FileChanged, FileNotFoundError) as error:  # a writer or another process acted meanwhile
            done = f"{outcome.rows} records loaded, " if outcome.status is FileStatus.LOADED else ""
            fate = "left in landing for the next run" if isinstance(error, FileChanged) else "nothing to move"
            log.error("%s: not moved to %s: %s", outcome.path, outcome.destination, error)
            why, code = f"{done}but {error}: {fate}", ReasonCode.CHANGED_DURING_RUN
        except Exception as error:  # the landing zone's own (a disk, a bucket's API: any of its client's): it stays
            log.error("%s: could not move to %s: %s", outcome.path, outcome.destination, error)
            why, code = f"move failed, left in landing: {error}", ReasonCode.MOVE_FAILED
        reason = f"{outcome.reason}; {why}" if outcome.reason else why
        return dataclasses.replace(outcome, status=FileStatus.FAILED, destination=None, reason=reason, reason_code=code)

    def _explain(self, file: LandingFile, moved: FileOutcome, planned: str, early: str | None) -> None:
        """The reason beside a rejected file where it went (maybe a numbered name), the early one withdrawn if it
        sits beside another name. The file is moved already: a reason that cannot be written (a full disk) is
        logged, and the outcome stands (the result and the history hold the reason)."""
        assert moved.destination is not None
        try:
            self.landing.write(reason_name(moved.destination), self._reason(file, moved))
        except Exception as error:  # the move is done: the file is in rejected/ whatever becomes of its reason file
            log.error(
                "%s: moved to %s, but its reason could not be written beside it: %s",
                file.name,
                moved.destination,
                error,
            )
            return
        if moved.destination != planned:
            self._withdraw(planned, early)

    def _withdraw(self, destination: str, version: str | None) -> None:
        """Remove the reason written for `destination` before a move, if it is still the one written."""
        if version is None:
            return
        try:
            self.landing.delete(reason_name(destination), version)
        except Exception as error:  # a stray reason file is untidy, never a loss
            log.warning("%s: could not remove a stray reason file: %s", reason_name(destination), error)

    def _reason(self, file: LandingFile, outcome: FileOutcome) -> bytes:
        return orjson.dumps(
            {
                "file": printable(file.name),  # its bytes that are not UTF-8 as \xNN
                "destination": outcome.destination,
                "data_type": outcome.data_type,
                "reason": outcome.reason,
                "reason_code": outcome.reason_code,
                "run_id": self.run_id,
                "rejected_at": datetime.now(UTC).isoformat(),
            },
            option=orjson.OPT_INDENT_2,
        )
