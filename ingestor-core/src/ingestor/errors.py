"""The core's error model: one base exception (`IngestorError`) and its two kinds, `TransientError` (an outage: the
same work may succeed later) and `RefusedError` (the data itself is refused: retrying it cannot succeed); the stable
`ReasonCode` of every rejected or failed outcome; which errors are the environment's (`ENVIRONMENT`), never a file's;
and errors told in one line, for messages and logs: what went wrong and where, never a value (a secret may be one)."""

from __future__ import annotations

import json
import logging
import os
import traceback
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import ClassVar

from pydantic import ValidationError

log = logging.getLogger("ingestor.plugins")


class ReasonCode(StrEnum):
    """Why a file was rejected or failed, stable for machines (`--json`, the history, metrics, notifications)
    beside the reason's text for people. An outcome that is neither (loaded, empty, already loaded, planned) has
    none. Rejected (the file's or its plugin's fault, in `rejected/`):"""

    MALFORMED_LINE = "malformed_line"
    """A line is not a JSON object (bad JSON, an array, nested deeper than 32 levels, an integer past 64 bits)."""
    RECORD_TOO_LONG = "record_too_long"
    """A line is longer than the bound on a record (`INGESTOR_MAX_RECORD_BYTES`)."""
    NOT_NDJSON = "not_ndjson"
    """Not NDJSON text at all: NUL bytes, corrupt compressed data."""
    NO_DATA_TYPE = "no_data_type"
    """No data type of the service matches the file's name."""
    AMBIGUOUS_DATA_TYPE = "ambiguous_data_type"
    """Two data types match the name equally well."""
    UNSAFE_NAME = "unsafe_name"
    """A name that is not UTF-8 or could escape its folders (a file's; a service's folder: the service refused)."""
    PLUGIN_ERROR = "plugin_error"
    """The plugin's normalizer raised, or returned something else than rows (a broken or disabled plugin's service:
    failed, its landing folder untouched)."""
    WAREHOUSE_REFUSED = "warehouse_refused"
    """The warehouse refused the file's rows (alone: the batch was split until it was isolated)."""
    # Failed (outside the file: it stays in landing for the next run):
    UNREADABLE_ENTRY = "unreadable_entry"
    """An entry the scan cannot read as a file (a FIFO, a symbolic link, no permission, a path too long)."""
    WAREHOUSE_UNAVAILABLE = "warehouse_unavailable"
    """The warehouse failed (down, busy, an error of its own) reading the ledger or loading the rows."""
    DEADLINE = "deadline"
    """The warehouse did not answer within its deadline."""
    TOO_LARGE = "too_large"
    """The warehouse ran out of memory loading the file alone."""
    NOT_TRIED = "not_tried"
    """The warehouse failed on the file's data type earlier in this run: not tried again."""
    ENVIRONMENT = "environment"
    """The machine's fault while staging: a full disk, an I/O error, no memory, a staging process killed."""
    INTERNAL_ERROR = "internal_error"
    """An error of the core's own code while staging (a bug: the traceback is logged)."""
    CHANGED_DURING_RUN = "changed_during_run"
    """The file was rewritten, appended to or removed during the run: not moved."""
    MOVE_FAILED = "move_failed"
    """It could not be moved to `archive/` or `rejected/` (its fate otherwise decided)."""


class IngestorError(Exception):
    """The base of the core's exceptions. `code`: the reason code of a file's outcome it leads to (None: it leads
    to none, e.g. a bad setting, a busy lease)."""

    code: ClassVar[ReasonCode | None] = None


class TransientError(IngestorError):
    """An outage, a deadline, a lease held, a file changing meanwhile: the same work may succeed on a later try."""


class RefusedError(IngestorError):
    """The data itself is refused (or cannot fit): retrying the same data cannot succeed; less of it may."""


# The machine's faults, wherever raised (a plugin's code included): a full disk, an I/O error, no memory. A file
# meeting one is not to blame: it stays in landing as FAILED for the next run, never goes to rejected/.
ENVIRONMENT = (OSError, MemoryError)


def problems(error: ValidationError, subject: str = "") -> str:
    """A validation error as `[subject ]where: what` per problem (`settings` when neither is known)."""
    said = []
    for problem in error.errors():
        where = " ".join(part for part in (subject, ".".join(map(str, problem["loc"]))) if part)
        said.append(f"{where or 'settings'}: {problem['msg']}")
    return "; ".join(said)


def describe(error: BaseException) -> str:
    """An exception in one line: `Type: message`, or a validation error as `Model field: message` per problem."""
    if isinstance(error, ValidationError):
        return problems(error, error.title)
    return f"{type(error).__name__}: {error}"


def plugin_error(error: BaseException, code: object) -> str:
    """An exception raised by a plugin's `code` (its function, object, module, or `module[:name]`) in one line,
    pointing at the plugin's own code: `Type: message (file, line N, in module.function)`, the last frame of
    the traceback in the plugin's top-level package. The whole traceback is logged at DEBUG, once."""
    said = describe(error)
    log.debug("%s", said, exc_info=error)
    where = _last_frame_in(error, _package(code))
    return f"{said} ({where})" if where else said


def json_error(error: ValueError) -> str:
    """A JSON decoding error of one NDJSON line: what, and at which column (the line is the caller's to say)."""
    if isinstance(error, json.JSONDecodeError):  # orjson's too
        return f"{error.msg} at column {error.colno}"
    return str(error)


def _package(code: object) -> str:
    if isinstance(code, str):
        name = code
    elif isinstance(code, ModuleType):
        name = code.__name__
    else:
        name = getattr(code, "__module__", None) or type(code).__module__
    return name.partition(":")[0].partition(".")[0]


def _last_frame_in(error: BaseException, package: str) -> str | None:
    """`file, line N, in module[.function]` of the innermost frame of `error` in `package`, or None."""
    found = None
    for frame, line in traceback.walk_tb(error.__traceback__):
        module = str(frame.f_globals.get("__name__", ""))
        if module == package or module.startswith(f"{package}."):
            found = (module, frame.f_code.co_name, frame.f_code.co_filename, line)
    if found is None:
        return None
    module, function, filename, line = found
    where = module if function == "<module>" else f"{module}.{function}"
    return f"{_from_package_root(filename, module)}, line {line}, in {where}"


def _from_package_root(filename: str, module: str) -> str:
    """The file's path from the folder its top-level package is in (`ingestor_strava/normalize.py`): the same on
    every machine, and what a reader of the plugin's source looks for."""
    path = Path(filename)
    keep = module.count(".") + 1 + (path.name == "__init__.py")
    return "/".join(path.parts[-keep:]) if len(path.parts) >= keep else filename


def cause(error: BaseException) -> str:
    """An error in one line for a file's reason, without the path an OSError names (a staging path means nothing
    to a user, and the outcome names its file): `[Errno 28] No space left on device`, `MemoryError`, `Type: message`."""
    if isinstance(error, OSError) and error.errno:  # the system's words (Arrow's OSError adds its own around them)
        return f"[Errno {error.errno}] {os.strerror(error.errno)}"
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__
