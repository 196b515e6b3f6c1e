"""What a plugin declares: services, each with its data types, views, fetcher, settings and demo.

The fetcher, its settings class and the demo are named as `"package.module:name"` (or given as
objects) and imported only when used, so loading the plugins never imports a fetcher's HTTP stack.
The core dispatches to them by service name: a plugin has no dispatch code of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pkgutil import resolve_name
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from ingestor.catalog import DataType, View
from ingestor.errors import IngestorError, plugin_error
from ingestor.names import validate_identifier

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

    from ingestor.fetching import FetchRequest, FetchResult

# `fetcher(request) -> FetchResult`: fetch what is new into `request.landing` (see `ingestor.fetching`).
Fetcher = Callable[["FetchRequest"], "FetchResult"]
# `demo(days, seed) -> {object name: NDJSON bytes}`: a deterministic landing zone under `{service}/landing/`.
Demo = Callable[[int, int], dict[str, bytes]]
_REFERENCE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
REFERENCES = ("fetcher", "settings", "demo")  # what a service names as "module:name", imported when used


class WrongKind(IngestorError, TypeError):
    """A reference names something of the wrong kind (a fetcher that is not callable...)."""


class Service(BaseModel):
    """One service: its data types (at least one), the views kept over their tables, and
    optionally a fetcher, the settings class of the fetcher (a pydantic-settings class: `ingestor
    fetch` builds it from the environment and hands it over as `FetchRequest.settings`) and a demo
    (`"module:name"`, imported when first used). The name defaults to the data types' `service`."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str = ""
    """The service's name, as in `--service`; defaults to the first data type's `service`."""
    data_types: tuple[DataType, ...]
    """Its data types, at least one, each naming this service."""
    views: tuple[View, ...] = ()
    """Views kept over its tables, refreshed after its loads."""
    fetcher: str | Callable[..., Any] | None = None
    """`"module:function"`, `fetch(request: FetchRequest) -> FetchResult`, run by `ingestor fetch`."""
    settings: str | type | None = None
    """`"module:Class"`, a `ServiceSettings` subclass built from the environment for the fetcher."""
    demo: str | Callable[..., Any] | None = None
    """`"module:function"`, `demo(days, seed) -> {object name: NDJSON bytes}`, run by `ingestor demo`."""
    description: str = ""
    """One line for readers, shown by `ingestor plugins`."""

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, values: Any) -> Any:
        if isinstance(values, dict) and not values.get("name") and isinstance(values.get("data_types"), list | tuple):
            types = values["data_types"]
            return {**values, "name": getattr(types[0], "service", "") if types else ""}
        return values

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return validate_identifier(value, "service")

    @field_validator(*REFERENCES)
    @classmethod
    def _reference(cls, value: object) -> object:
        if isinstance(value, str) and not _REFERENCE.fullmatch(value):
            raise ValueError(f"{value!r} is not a 'package.module:name' reference")
        return value

    @field_validator("settings")
    @classmethod
    def _settings_class(cls, value: object) -> object:
        # (pydantic-settings is imported here, not with the contract: only when a class itself is given)
        if isinstance(value, type) and not _is_settings(value):
            raise ValueError(f"{value.__name__} is not a pydantic-settings class (a ServiceSettings subclass)")
        return value

    @model_validator(mode="after")
    def _check(self) -> Service:
        if not self.data_types:
            raise ValueError(f"service {self.name} declares no data type")
        seen: set[str] = set()
        items: list[DataType | View] = [*self.data_types, *self.views]
        for item in items:
            if item.service != self.name:
                kind = type(item).__name__
                raise ValueError(f"{kind} {item.name} says service {item.service!r}, not {self.name!r}")
        for dt in self.data_types:
            if dt.name in seen:
                raise ValueError(f"data type {dt.key} is declared twice")
            seen.add(dt.name)
        return self

    def load_fetcher(self) -> Fetcher | None:
        """The fetcher, imported now (None: the service has none)."""
        fetcher: Fetcher | None = self._load("fetcher")
        return fetcher

    def load_settings(self) -> type[BaseSettings] | None:
        """The fetcher's settings class, imported now (None: the service declares none)."""
        kind: type[BaseSettings] | None = self._load("settings")
        return kind

    def load_demo(self) -> Demo | None:
        """The demo, imported now (None: the service has none)."""
        demo: Demo | None = self._load("demo")
        return demo

    def unresolved(self) -> list[str]:
        """What is wrong with the fetcher, settings and demo references, each imported now but never called: one
        that does not import, names nothing, or names something of the wrong kind."""
        found = []
        for what in REFERENCES:
            try:
                self._load(what)
            except WrongKind as error:
                found.append(str(error))
            except Exception as error:  # the plugin's module does not import, or lacks the name
                reference = getattr(self, what)
                found.append(
                    f"the {what} of {self.name}, {reference!r}, does not resolve: {plugin_error(error, reference)}"
                )
        return found

    def _load(self, what: str) -> Any:
        """The fetcher, settings or demo (`what`), imported if named, and checked to be of its kind."""
        reference = getattr(self, what)
        loaded = resolve_name(reference) if isinstance(reference, str) else reference
        if what == "settings":
            fits, kind = isinstance(loaded, type) and _is_settings(loaded), "a pydantic-settings class"
        else:
            fits, kind = callable(loaded), "callable"
        if loaded is not None and not fits:
            raise WrongKind(f"the {what} of {self.name}, {reference!r}, is not {kind}")
        return loaded


def _is_settings(kind: type) -> bool:
    from pydantic_settings import BaseSettings

    return issubclass(kind, BaseSettings)
