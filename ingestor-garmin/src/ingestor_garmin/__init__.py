"""Garmin Connect data types for ingestor."""

__version__ = "0.1.0"
