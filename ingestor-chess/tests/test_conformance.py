"""The ingestor conformance suite (declarations, file names, demo loads cleanly)."""

from ingestor.conformance import PluginConformance
from ingestor_chess import plugin


class TestConformance(PluginConformance):
    plugin = plugin
