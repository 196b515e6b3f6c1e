"""A landing file's fate, decided once: `decide` takes the record of what happened to the file in
this run (`Happened`, the one record a file is carried as from the scan to settling: the scan's verdict,
the ledger's, staging's, the load's, whether it is a dry run) and gives its outcome: status, reason and its
stable code (`errors.ReasonCode`), destination and counts. It is a pure function; settling
(`ingestor.run.settle`) only carries the outcome out, and downgrades it to FAILED when the move itself fails or
the file changed meanwhile."""

from __future__ import annotations

from dataclasses import dataclass

from ingestor.catalog import Match
from ingestor.errors import ReasonCode
from ingestor.landing import LandingFile, fitted, printable, utf8_name
from ingestor.result import FileOutcome, FileStatus
from ingestor.staging.row_path import Staged

ALREADY_LOADED = "the ledger shows it loaded; archived without loading again"
ARCHIVED = {FileStatus.LOADED, FileStatus.EMPTY, FileStatus.ALREADY_LOADED}


@dataclass(frozen=True)
class Load:
    """How the load of a file's batch ended: committed (`error` None), or not, and why (`code`, the kind of
    LoadError: `warehouse_refused` the rows themselves, `too_large`, or the warehouse failed)."""

    error: str | None = None
    code: ReasonCode | None = None
    notes: tuple[str, ...] = ()  # the data type's schema notes, given to each file it committed

    @property
    def outage(self) -> bool:
        """The warehouse failed (not the rows, nor their size): the data type's later parts are not tried."""
        return self.error is not None and self.code not in (ReasonCode.WAREHOUSE_REFUSED, ReasonCode.TOO_LARGE)


@dataclass(slots=True)
class Happened:
    """The record of one landing file through this run: made at the scan, filled in by each step (plan, stage,
    load) with what it did, and settled from. A step that did not reach the file leaves its field at the
    default."""

    file: LandingFile
    service: str
    data_type: str | None = None
    dry_run: bool = False
    match: Match | None = None  # its data type and the attributes its name carries (None: it matched none)
    slot: int = -1  # its place in the run's result (scan order), given as the settler expects it
    rejected_by_scan: str | None = None  # no data type matches, ambiguous, unsafe name
    scan_code: ReasonCode | None = None  # the code of the scan's rejection
    failed_by_scan: str | None = None  # not a file it can read (a FIFO, a path too long...): never opened
    unreadable: str | None = None  # the warehouse error that kept its data type from being decided
    not_tried: str | None = None  # the warehouse failed on its data type in an earlier part of this run (why)
    already_loaded: bool = False  # the ledger holds this very version
    earlier: str | None = None  # what an earlier version of it loaded (the first part of its reason)
    staged: Staged | None = None  # rows, or why staging rejected the file (or, `failed`, left it in landing)
    load: Load | None = None


def decide(happened: Happened) -> FileOutcome:
    """The outcome of a file from what happened to it."""
    h, staged = happened, happened.staged or Staged()
    status, reason, rows = FileStatus.FAILED, None, 0
    code: ReasonCode | None = None
    notes: tuple[str, ...] = ()
    if h.rejected_by_scan is not None:
        status, reason, code = FileStatus.REJECTED, h.rejected_by_scan, h.scan_code or ReasonCode.NO_DATA_TYPE
    elif h.failed_by_scan is not None:
        reason, code = f"{h.failed_by_scan}; left in landing", ReasonCode.UNREADABLE_ENTRY
    elif h.unreadable is not None:
        reason = f"the warehouse could not be read, left in landing: {h.unreadable}"
        code = ReasonCode.WAREHOUSE_UNAVAILABLE
    elif h.not_tried is not None:
        reason = f"not tried, left in landing: the warehouse failed on {h.data_type} earlier in this run: {h.not_tried}"
        code = ReasonCode.NOT_TRIED
    elif h.already_loaded:
        status, reason = FileStatus.ALREADY_LOADED, ALREADY_LOADED
    elif staged.failed:
        reason, code = f"staging failed, left in landing: {staged.reason}", staged.code or ReasonCode.INTERNAL_ERROR
    elif staged.reason is not None:
        status, reason, code = FileStatus.REJECTED, staged.reason, staged.code or ReasonCode.MALFORMED_LINE
    elif not staged.rows:
        status, reason = FileStatus.EMPTY, h.earlier or _empty_reason(staged)
    elif h.dry_run:
        status, reason, rows = FileStatus.PLANNED, h.earlier, staged.rows
    elif h.load is None:
        raise ValueError(f"{h.file.name}: staged but neither loaded nor failed")
    elif h.load.error is None:
        status, reason, rows, notes = FileStatus.LOADED, h.earlier, staged.rows, h.load.notes
    elif h.load.code is ReasonCode.WAREHOUSE_REFUSED:
        status, reason, code = FileStatus.REJECTED, f"the warehouse refused the rows: {h.load.error}", h.load.code
    else:
        reason, code = f"load failed, left in landing: {h.load.error}", h.load.code or ReasonCode.WAREHOUSE_UNAVAILABLE
    if status is FileStatus.REJECTED and h.dry_run:
        status = FileStatus.WOULD_REJECT
    return FileOutcome(
        path=printable(h.file.name),
        service=h.service,
        data_type=h.data_type,
        status=status,
        rows=rows,
        bytes=h.file.size,
        dropped=staged.dropped,
        null_lines=staged.null_lines,
        reason=reason,
        reason_code=code,
        destination=destination(h.file.name, h.service, status),
        notes=list(notes),
    )


def refused(service: str, why: str, code: ReasonCode) -> FileOutcome:
    """The outcome of a service refused as a whole (its landing folder unsafe, its plugin broken or disabled): its
    folder stays as it is."""
    return FileOutcome(
        path=f"{service}/landing/", service=service, status=FileStatus.FAILED, reason=why, reason_code=code
    )


def destination(name: str, service: str, status: FileStatus) -> str | None:
    """Where a file of this status goes: archive/ or rejected/ beside landing/, at the same path
    below it (made safe); None: it stays in landing."""
    relative = safe_relative(name.removeprefix(f"{service}/landing/"))
    if status in ARCHIVED:
        return f"{service}/archive/{relative}"
    if status is FileStatus.REJECTED:
        return f"{service}/rejected/{relative}"
    return None


def _empty_reason(staged: Staged) -> str:
    """Why a file gave no rows: it had no records, or the normalizer dropped them all."""
    if staged.dropped:
        return f"no rows: the normalizer dropped all {staged.dropped} records"
    return "empty file: no records"


def safe_relative(relative: str) -> str:
    """A relative path with no segment that could climb out of a folder, in UTF-8 (`utf8_name`)."""
    segments = [s if s not in ("", ".", "..") else "_" for s in utf8_name(relative).replace("\\", "/").split("/")]
    return "/".join(fitted("".join(c if ord(c) >= 32 else "_" for c in s)) for s in segments)
