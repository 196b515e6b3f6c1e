"""The plugins: the core's engine plus every entry point of the group `ingestor`, each loaded and
checked on its own.

A plugin that fails to import, implements a hook the contract lacks (or with an argument it
lacks), raises in `services()` or returns anything but a list of `Service` is quarantined: its
problem names its distribution and the cause, and every other plugin keeps working. A service
that two distributions declare is disabled, naming both; their other services keep working.

`PluginSettings` (`INGESTOR_LOAD_PLUGINS`, `INGESTOR_STRICT_PLUGINS`) says which distributions load and
whether any problem is an error (CI); the CLI passes it to `current_plugins`.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property, partial
from importlib.metadata import entry_points
from types import ModuleType
from typing import TYPE_CHECKING

import pluggy

from ingestor import hookspecs
from ingestor.catalog import Catalog, DataType, View
from ingestor.errors import describe
from ingestor.service import Service

if TYPE_CHECKING:
    from ingestor.settings import PluginSettings

GROUP = "ingestor"
CORE = "ingestor-core"
HOOKS = sorted(name for name, spec in vars(hookspecs).items() if hasattr(spec, f"{GROUP}_spec"))
log = logging.getLogger("ingestor.plugins")


class PluginError(RuntimeError):
    """A plugin has a problem and strict mode is on."""


@dataclass
class Plugin:
    """One plugin: where it comes from, what it declares, and what is wrong with it."""

    name: str
    distribution: str
    version: str
    hooks: list[str] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    quarantined: bool = False  # a problem of its own: none of its services is used


@dataclass
class Plugins:
    """The loaded plugins: the services they provide, and every problem found."""

    pm: pluggy.PluginManager
    plugins: list[Plugin] = field(default_factory=list)
    disabled: dict[str, str] = field(default_factory=dict)  # service -> why

    @cached_property
    def services(self) -> dict[str, Service]:
        """Every working service, by name."""
        found = {s.name: s for p in self.plugins if not p.quarantined for s in p.services}
        return {name: found[name] for name in sorted(found) if name not in self.disabled}

    @cached_property
    def catalog(self) -> Catalog:
        """The data types of every working service."""
        return Catalog(dt for s in self.services.values() for dt in s.data_types)

    @property
    def views(self) -> list[View]:
        """The views of every working service."""
        return [v for s in self.services.values() for v in s.views]

    @property
    def problems(self) -> list[str]:
        """Every problem, once, as `distribution: cause`."""
        return list(dict.fromkeys(f"{p.distribution}: {m}" for p in self.plugins for m in p.problems))


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _entry_points(only: Collection[str] | None) -> Iterator[tuple[Plugin, Callable[[], object]]]:
    allowed = None if only is None else {_normalize(n) for n in only if n.strip()}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        dist = ep.dist.name if ep.dist else ep.value
        if allowed is None or _normalize(dist) in allowed:
            yield Plugin(ep.name, dist, ep.dist.version if ep.dist else "?"), ep.load


def _given(objects: Sequence[object]) -> Iterator[tuple[Plugin, Callable[[], object]]]:
    for index, obj in enumerate(objects):
        module = getattr(obj, "__name__", None) or type(obj).__module__  # a module, or an object
        name = module if isinstance(obj, ModuleType) else f"{module}.{type(obj).__name__}#{index}"
        yield Plugin(name, f"(registered directly: {module})", ""), partial(_same, obj)


def _same(obj: object) -> object:
    return obj


def load_plugins(
    objects: Sequence[object] = (),
    entry_points: bool = True,
    strict: bool = False,
    only: Collection[str] | None = None,
) -> Plugins:
    """The core's engine, the plugin `objects` given (tests) and, by default, the installed
    plugins (`only`: just these distributions); each checked on its own. Strict raises
    PluginError on any problem; otherwise each problem is logged as a warning."""
    from ingestor.engine import DefaultIngest
    from ingestor.version import VERSION

    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    pm.register(DefaultIngest(), name="ingestor.engine")
    loaded = Plugins(pm, [Plugin("ingestor.engine", CORE, VERSION, ["ingest"])])
    for plugin, load in [*_given(objects), *(_entry_points(only) if entry_points else ())]:
        try:
            obj = load()
        except Exception as error:
            plugin.problems.append(f"failed to import {plugin.name}: {describe(error)}")
        else:
            if pm.is_registered(obj):
                continue
            _check(pm, obj, plugin)
        plugin.quarantined = bool(plugin.problems)
        loaded.plugins.append(plugin)
    _disable_clashes(loaded)
    _disable_shared_tables(loaded)  # of the services still working
    problems = loaded.problems
    if problems and strict:
        raise PluginError("plugin problems (strict mode):\n  " + "\n  ".join(problems))
    for problem in problems:
        log.warning("plugin %s", problem)
    return loaded


def _check(pm: pluggy.PluginManager, obj: object, plugin: Plugin) -> None:
    """Register one plugin and collect its services; on any problem, unregister it."""
    try:
        pm.register(obj, name=plugin.name)
    except pluggy.PluginValidationError as error:  # e.g. an argument the hookspec lacks
        text = " ".join(str(error).split())
        found = re.search(r"for hook '(\w+)'.*Argument\(s\) \{(.*?)\}", text)
        plugin.problems.append(f"hook {found[1]} takes {found[2]}, which the contract does not pass" if found else text)
        return
    callers = pm.get_hookcallers(obj) or []
    plugin.hooks = sorted(caller.name for caller in callers)
    for caller in callers:
        if caller.spec is None:  # not a hook of the contract
            near = difflib.get_close_matches(caller.name, HOOKS, n=1)
            plugin.problems.append(f"unknown hook {caller.name}" + (f" (did you mean {near[0]}?)" if near else ""))
    if not plugin.problems:
        for impl in pm.hook.services.get_hookimpls():
            if impl.plugin is obj:
                plugin.services = _services(impl.function, plugin)
    if plugin.problems:
        pm.unregister(obj)


def _services(hook: Callable[[], object], plugin: Plugin) -> list[Service]:
    """What one plugin's `services()` returns, checked."""
    try:
        returned = hook()
    except Exception as error:
        plugin.problems.append(f"services() raised {describe(error)}")
        return []
    if not isinstance(returned, list | tuple) or not all(isinstance(s, Service) for s in returned):
        shape = type(returned).__name__
        if isinstance(returned, list | tuple):
            shape = f"a {shape} holding {', '.join(sorted({type(s).__name__ for s in returned}))}"
        plugin.problems.append(f"services() returned {shape}; expected a list of Service")
        return []
    names = [s.name for s in returned]
    for name in sorted({n for n in names if names.count(n) > 1}):
        plugin.problems.append(f"declares service {name} twice")
    return list(returned)


def _disable_clashes(loaded: Plugins) -> None:
    """A service declared by two distributions is disabled, with a problem naming both."""
    owners: dict[str, list[Plugin]] = {}
    for plugin in loaded.plugins:
        if not plugin.quarantined:
            for service in plugin.services:
                owners.setdefault(service.name, []).append(plugin)
    for name, plugins in owners.items():
        if len(plugins) > 1:
            names = " and ".join(sorted({p.distribution for p in plugins}))
            loaded.disabled[name] = f"declared by both {names}"
            for plugin in plugins:
                plugin.problems.append(f"service {name} is declared by both {names}: {name} is disabled")


def _disable_shared_tables(loaded: Plugins) -> None:
    """The services whose data types write one table are disabled, with a problem naming it (their rows would
    mix, nothing telling them apart, and each type's schema changes would alter the other's table)."""
    writers: dict[str, list[tuple[Plugin, DataType]]] = {}
    working = (
        (plugin, dt)
        for plugin in loaded.plugins
        if not plugin.quarantined
        for service in plugin.services
        if service.name not in loaded.disabled
        for dt in service.data_types
    )
    for plugin, dt in working:
        writers.setdefault(f"{dt.dataset_for('dev')}.{dt.table_for('dev')}", []).append((plugin, dt))
    for table, claims in writers.items():
        if len(claims) > 1:
            keys = " and ".join(dt.key for _, dt in claims)
            for plugin, dt in claims:
                loaded.disabled.setdefault(dt.service, f"{keys} write one table, {table}")
                problem = f"{keys} write one table, {table}: {dt.service} is disabled"
                if problem not in plugin.problems:  # two data types of one service: said once
                    plugin.problems.append(problem)


_OVERRIDE: list[Plugins] = []


def current_plugins(settings: PluginSettings) -> Plugins:
    """The plugins the CLI uses: an override set by `use_plugins`, else the installed ones `settings` asks for."""
    return _OVERRIDE[-1] if _OVERRIDE else load_plugins(strict=settings.strict, only=settings.load)


@contextmanager
def use_plugins(plugins: Plugins) -> Iterator[Plugins]:
    """Make the CLI use `plugins` (tests register plugin objects there instead of autoloading)."""
    _OVERRIDE.append(plugins)
    try:
        yield plugins
    finally:
        _OVERRIDE.remove(plugins)
