"""ingestor: load personal-data exports from a landing zone into an analytical warehouse.

This module is the plugin contract: everything a plugin needs is imported from here. It is
versioned with ingestor-core: plugins depend on `ingestor-core>=0.2,<0.3`, and a change that
breaks plugins bumps the minor version. A fetcher's settings are a `ServiceSettings` subclass
(pydantic's `Field` and `SecretStr` are here for it) named on its `Service`. The fetching names
(`FetchRequest`, `TypeFetch`, `run_fetch`, ...) come with the `fetch` extra and are imported on
first use, so loading a plugin never imports an HTTP stack. See docs/writing-a-plugin.md.
"""

from importlib import import_module
from typing import Any

from pydantic import Field, SecretStr

from ingestor.catalog import DataType, Normalizer, SourceFile, View, ViewSource, VouchingNormalizer
from ingestor.hookspecs import hookimpl
from ingestor.schema import Declared, Kind, parse_date, parse_timestamp
from ingestor.service import Service
from ingestor.settings import HttpSettings, ServiceSettings
from ingestor.version import VERSION

__version__ = VERSION
"""The installed ingestor-core's version."""

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
    """The fetching names, imported when first used (they need httpx and tenacity)."""
    if name in _FETCHING:
        return getattr(import_module("ingestor.fetching"), name)
    raise AttributeError(f"module 'ingestor' has no attribute {name!r}")
