"""Errors told in one line, for messages and logs: what went wrong and where, never a value (a secret may be one)."""

from __future__ import annotations

from pydantic import ValidationError


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
