"""Optional dependencies: import a module that needs an extra, or say in one line what to install."""

from __future__ import annotations

import importlib
from typing import Any

from ingestor.errors import IngestorError


class MissingExtra(IngestorError, ValueError):
    """A module needs an optional dependency of ingestor-core that is not installed."""


def import_optional(target: str, extra: str, purpose: str) -> Any:
    """Import `module:attribute` (or a whole module); if a third-party module it needs is missing,
    raise MissingExtra naming the extra that brings it (`pip install 'ingestor-core[gcp]'`)."""
    module, _, attribute = target.partition(":")
    try:
        imported = importlib.import_module(module)
    except ModuleNotFoundError as error:
        missing = error.name or "?"
        if not extra or missing.split(".")[0] == "ingestor":
            raise  # a broken install or a bug of ours, not a missing extra
        raise MissingExtra(
            f"{purpose} needs the {extra!r} extra ({missing} is not installed): pip install 'ingestor-core[{extra}]'"
        ) from error
    return getattr(imported, attribute) if attribute else imported
