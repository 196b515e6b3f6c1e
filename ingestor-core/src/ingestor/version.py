"""The installed ingestor-core's version (a module of its own: the package and its modules both need it)."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("ingestor-core")
except PackageNotFoundError:  # running from a source tree
    VERSION = "0.0.0"
