"""ingestor: load personal-data exports from a landing zone into an analytical warehouse."""

from importlib.metadata import PackageNotFoundError, version

from ingestor.hookspecs import hookimpl

try:
    __version__ = version("ingestor-core")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__", "hookimpl"]
