"""Errors told in one line, for messages and logs: what went wrong and where, never a value (a secret may be one);
and which errors are the environment's (`ENVIRONMENT`), never a file's."""

from __future__ import annotations

import os

from pydantic import ValidationError

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


def cause(error: BaseException) -> str:
    """An error in one line for a file's reason, without the path an OSError names (a staging path means nothing
    to a user, and the outcome names its file): `[Errno 28] No space left on device`, `MemoryError`, `Type: message`."""
    if isinstance(error, OSError) and error.errno:  # the system's words (Arrow's OSError adds its own around them)
        return f"[Errno {error.errno}] {os.strerror(error.errno)}"
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__
