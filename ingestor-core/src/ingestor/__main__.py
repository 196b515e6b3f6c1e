"""`python -m ingestor` is the `ingestor` command."""

from ingestor.cli import main

if __name__ == "__main__":  # staging workers (spawned processes) import this module again
    main()
