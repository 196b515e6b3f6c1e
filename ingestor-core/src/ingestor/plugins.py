"""The plugin manager: the core's engine plus every entry point of the group `ingestor`.

Environment:
- INGESTOR_LOAD_PLUGINS=a,b  load only these distributions ("" loads none);
- INGESTOR_STRICT_PLUGINS=1  a plugin that fails to import is an error, not a warning.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import entry_points

import pluggy

from ingestor import hookspecs

GROUP = "ingestor"
log = logging.getLogger("ingestor.plugins")


class PluginError(RuntimeError):
    """A plugin could not be loaded (strict mode)."""


@dataclass(frozen=True)
class PluginInfo:
    """Where a registered plugin comes from."""

    name: str
    distribution: str
    version: str


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def get_plugin_manager(load_entry_points: bool = True) -> pluggy.PluginManager:
    """A plugin manager with the hookspecs, the core engine, and (by default) installed plugins."""
    from ingestor.engine import DefaultIngest

    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    pm.register(DefaultIngest(), name="ingestor.engine")
    if load_entry_points:
        _load_entry_points(pm)
    pm.check_pending()
    return pm


_INFO: dict[int, PluginInfo] = {}
_OVERRIDE: list[pluggy.PluginManager] = []


def current_plugin_manager() -> pluggy.PluginManager:
    """The plugin manager the CLI uses: an override set by `use_plugin_manager`, else a new one."""
    return _OVERRIDE[-1] if _OVERRIDE else get_plugin_manager()


@contextmanager
def use_plugin_manager(pm: pluggy.PluginManager) -> Iterator[pluggy.PluginManager]:
    """Make the CLI use `pm` (tests register plugin objects there instead of autoloading)."""
    _OVERRIDE.append(pm)
    try:
        yield pm
    finally:
        _OVERRIDE.remove(pm)


def plugin_info(pm: pluggy.PluginManager, plugin: object) -> PluginInfo:
    """Distribution and version of a registered plugin (the core's own for built-ins)."""
    from ingestor import __version__

    known = _INFO.get(id(plugin))
    if known is not None:
        return known
    module = getattr(plugin, "__name__", None) or type(plugin).__module__  # a module, or an object
    if module.split(".")[0] == "ingestor":
        return PluginInfo(pm.get_name(plugin) or "?", "ingestor-core", __version__)
    return PluginInfo(pm.get_name(plugin) or "?", f"(registered directly: {module})", "")


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    strict = os.environ.get("INGESTOR_STRICT_PLUGINS", "").lower() in {"1", "true", "yes"}
    only = os.environ.get("INGESTOR_LOAD_PLUGINS")
    allowed = None if only is None else {_normalize(n) for n in only.split(",") if n.strip()}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        dist = ep.dist.name if ep.dist else ep.value
        if allowed is not None and _normalize(dist) not in allowed:
            continue
        try:
            plugin = ep.load()
            if pm.is_registered(plugin):
                continue
            pm.register(plugin, name=ep.name)
        except Exception as error:
            message = f"plugin {dist} ({ep.name}) failed to load: {type(error).__name__}: {error}"
            if strict:
                raise PluginError(message) from error
            log.warning(message)
            continue
        _INFO[id(plugin)] = PluginInfo(ep.name, dist, ep.dist.version if ep.dist else "?")
