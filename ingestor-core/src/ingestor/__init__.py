"""ingestor: load personal-data exports from a landing zone into an analytical warehouse.

This module is the plugin contract: everything a plugin needs is imported from here. It is
versioned with ingestor-core: plugins depend on `ingestor-core>=0.2,<0.3`, and a change that
breaks plugins bumps the minor version. A fetcher's settings are a `ServiceSettings` subclass
(pydantic's `Field` and `SecretStr` are here for it) named on its `Service`. The fetching names
(`FetchRequest`, `TypeFetch`, `run_fetch`, ...) come with the `fetch` extra and are imported on
first use, so loading a plugin never imports an HTTP stack. Every name here is imported when first used:
every plugin imports this module, and `import ingestor` itself costs next to nothing. See
docs/writing-a-plugin.md.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import Field, SecretStr

    from ingestor.catalog import DataType, Normalizer, SourceFile, View, ViewSource, VouchingNormalizer
    from ingestor.hookspecs import hookimpl
    from ingestor.schema import Declared, Kind, parse_date, parse_timestamp
    from ingestor.service import Service
    from ingestor.settings import HttpSettings, ServiceSettings

__version__: str  # (imported when first used, as every name below)
"""The installed ingestor-core's version."""

# Each name is imported from its module when first used (`import ingestor` itself imports nothing heavy:
# every plugin pays for it): name -> module.
_LAZY = {
    "Field": "pydantic",
    "SecretStr": "pydantic",
    "DataType": "ingestor.catalog",
    "Normalizer": "ingestor.catalog",
    "SourceFile": "ingestor.catalog",
    "View": "ingestor.catalog",
    "ViewSource": "ingestor.catalog",
    "VouchingNormalizer": "ingestor.catalog",
    "hookimpl": "ingestor.hookspecs",
    "Declared": "ingestor.schema",
    "Kind": "ingestor.schema",
    "parse_date": "ingestor.schema",
    "parse_timestamp": "ingestor.schema",
    "Service": "ingestor.service",
    "HttpSettings": "ingestor.settings",
    "ServiceSettings": "ingestor.settings",
}

_FETCHING = (
    "AuthError",
    "BookmarkStore",
    "ConfigError",
    "FetchError",
    "FetchRequest",
    "FetchResult",
    "Precision",
    "TypeFetch",
    "describe_error",
    "digest",
    "file_timestamp",
    "get_json",
    "http_client",
    "run_fetch",
)

__all__ = [
    "DataType",
    "Declared",
    "Field",
    "HttpSettings",
    "Kind",
    "Normalizer",
    "SecretStr",
    "Service",
    "ServiceSettings",
    "SourceFile",
    "View",
    "ViewSource",
    "VouchingNormalizer",
    "__version__",
    "hookimpl",
    "parse_date",
    "parse_timestamp",
    *_FETCHING,
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module when first used (the fetching names need httpx and tenacity)."""
    if name == "__version__":
        module, attribute = "ingestor.version", "VERSION"
    elif name in _LAZY or name in _FETCHING:
        module, attribute = _LAZY.get(name, "ingestor.fetching"), name
    else:
        raise AttributeError(f"module 'ingestor' has no attribute {name!r}")
    value = getattr(import_module(module), attribute)
    globals()[name] = value  # found directly from now on
    return value
