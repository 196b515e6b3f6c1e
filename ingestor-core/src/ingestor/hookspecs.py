"""The whole plugin contract: one hook, `services()`. A plugin is a module or object with a `@hookimpl`
function, registered through the entry-point group `ingestor`; what it may use is exported by `ingestor`.
The core ingests every service itself (`ingestor.run.engine`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ingestor.service import Service

hookspec = pluggy.HookspecMarker("ingestor")
hookimpl = pluggy.HookimplMarker("ingestor")
"""Marks a plugin's implementation of a hook: `@hookimpl def services() -> list[Service]: ...`."""


@hookspec
def services() -> list[Service]:
    """Return the services this plugin provides: their data types, views, fetcher and demo."""
