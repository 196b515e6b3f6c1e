"""ingestor-spotify: the Spotify data types of ingestor (plays, library, top lists, enrichment)."""
