"""`python -m ingestor` is the `ingestor` command."""

from ingestor.cli import main

main()
