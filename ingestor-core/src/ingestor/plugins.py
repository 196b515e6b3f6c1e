"""The plugins: every entry point of the group `ingestor`, each loaded and checked on its own.

A plugin that fails to import, implements a hook the contract lacks (or with an argument it
lacks), raises in `services()` or returns anything but a list of `Service` is quarantined: its
problem names its distribution and the cause (an exception: the file and line of the plugin's code
that raised it), and every other plugin keeps working. Names two plugins claim (a service, a table)
are settled by `ingestor.claims`: installing a plugin never disables a service that works.

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

from ingestor import claims, hookspecs
from ingestor.catalog import Catalog, View
from ingestor.errors import IngestorError, ReasonCode, plugin_error
from ingestor.service import Service

if TYPE_CHECKING:
    from ingestor.environment import PluginSettings

GROUP = "ingestor"
HOOKS = sorted(name for name, spec in vars(hookspecs).items() if hasattr(spec, f"{GROUP}_spec"))
log = logging.getLogger("ingestor.plugins")


class PluginError(IngestorError, RuntimeError):
    """A plugin has a problem and strict mode is on."""

    code = ReasonCode.PLUGIN_ERROR


@dataclass
class Plugin:
    """One plugin: where it comes from, what it declares, and what is wrong with it."""

    name: str  # the entry point's (or, registered directly, the object's)
    distribution: str
    version: str
    module: str  # what is imported
    hooks: list[str] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    quarantined: bool = False  # a problem of its own: none of its services is used

    def may_declare(self, service: str) -> bool:
        """Whether this plugin declares `service`, or, its services unknown (it failed before saying), is named
        after it: its entry point `service`, its distribution `service` or `ingestor-service`."""
        if self.services:
            return any(s.name == service for s in self.services)
        names = {_normalize(self.name), _normalize(self.distribution)}
        return _normalize(service) in names or _normalize(f"{GROUP}-{service}") in names


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
        """Every problem once, as `distribution: cause` (a cause several distributions share is said once, after
        those it does not name already)."""
        carriers: dict[str, list[str]] = {}
        for plugin in self.plugins:
            for problem in plugin.problems:
                carriers.setdefault(problem, [])
                if plugin.distribution not in carriers[problem]:
                    carriers[problem].append(plugin.distribution)
        said = []
        for problem, distributions in carriers.items():
            unnamed = [d for d in distributions if d not in problem] or distributions[:1]
            said.append(f"{' and '.join(unnamed)}: {problem}")
        return said

    def unavailable(self, service: str) -> str | None:
        """Why `service` is installed but cannot be used (disabled, or its plugin is broken); None when it works
        or no plugin is known to declare it."""
        if service in self.disabled:
            return f"service {service} is disabled: {self.disabled[service]}"
        for plugin in self.plugins:
            if plugin.quarantined and plugin.may_declare(service):
                problems = "; ".join(plugin.problems)
                return f"service {service} is not available: its plugin {plugin.distribution} is broken: {problems}"
        return None

    def check_references(self) -> None:
        """Add to each plugin's problems those of its services' references (fetcher, settings, demo), imported
        now but never called: not a part of loading, which never imports a fetcher's HTTP stack; and each
        primary key column a data type does not declare (`ingestor.run.latest`)."""
        from ingestor.run.latest import key_problems

        for plugin in self.plugins:
            found = [problem for service in plugin.services for problem in service.unresolved()]
            found += [
                problem for service in plugin.services for dt in service.data_types for problem in key_problems(dt)
            ]
            for problem in found:
                if problem not in plugin.problems:
                    plugin.problems.append(problem)

    @property
    def failed_to_declare(self) -> list[str]:
        """The distributions whose services are unknown: they failed before declaring them."""
        return sorted({p.distribution for p in self.plugins if p.quarantined and not p.services})


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _entry_points(only: Collection[str] | None) -> Iterator[tuple[Plugin, Callable[[], object]]]:
    allowed = None if only is None else {_normalize(n) for n in only if n.strip()}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        dist = ep.dist.name if ep.dist else ep.value
        if allowed is None or _normalize(dist) in allowed:
            yield Plugin(ep.name, dist, ep.dist.version if ep.dist else "?", ep.module), ep.load


def _given(objects: Sequence[object]) -> Iterator[tuple[Plugin, Callable[[], object]]]:
    for index, obj in enumerate(objects):
        module = getattr(obj, "__name__", None) or type(obj).__module__  # a module, or an object
        name = module if isinstance(obj, ModuleType) else f"{module}.{type(obj).__name__}#{index}"
        yield Plugin(name, f"(registered directly: {module})", "", module), partial(_same, obj)


def _same(obj: object) -> object:
    return obj


def load_plugins(
    objects: Sequence[object] = (),
    entry_points: bool = True,
    strict: bool = False,
    only: Collection[str] | None = None,
    warn: bool = True,
) -> Plugins:
    """The plugin `objects` given (tests) and, by default, the installed plugins (`only`: just these
    distributions); each checked on its own. Strict raises PluginError on any problem; otherwise each
    problem is logged as a warning (`warn`: a command that prints them says no)."""
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    loaded = Plugins(pm)
    for plugin, load in [*_given(objects), *(_entry_points(only) if entry_points else ())]:
        try:
            obj = load()
        except Exception as error:  # a plugin's module may raise anything on import: that plugin alone is broken
            plugin.problems.append(f"failed to import {plugin.module}: {plugin_error(error, plugin.module)}")
        else:
            if pm.is_registered(obj):
                continue
            _check(pm, obj, plugin)
        plugin.quarantined = bool(plugin.problems)
        loaded.plugins.append(plugin)
    loaded.disabled.update(claims.settle([p for p in loaded.plugins if not p.quarantined]))
    problems = loaded.problems
    if problems and strict:
        raise PluginError("plugin problems (strict mode):\n  " + "\n  ".join(problems))
    for problem in problems if warn else ():
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
    except Exception as error:  # the plugin's own code may raise anything: that plugin alone is broken
        plugin.problems.append(f"services() raised {plugin_error(error, hook)}")
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


_OVERRIDE: list[Plugins] = []


def current_plugins(settings: PluginSettings, warn: bool = True) -> Plugins:
    """The plugins the CLI uses: an override set by `use_plugins`, else the installed ones `settings` asks for."""
    return _OVERRIDE[-1] if _OVERRIDE else load_plugins(strict=settings.strict, only=settings.load, warn=warn)


@contextmanager
def use_plugins(plugins: Plugins) -> Iterator[Plugins]:
    """Make the CLI use `plugins` (tests register plugin objects there instead of autoloading)."""
    _OVERRIDE.append(plugins)
    try:
        yield plugins
    finally:
        _OVERRIDE.remove(plugins)
