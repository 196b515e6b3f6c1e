"""ingestor plugin for chess.com published-data exports (profiles, stats, games, clubs, tournaments)."""
