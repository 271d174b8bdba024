"""Background work: parsers, deduplication and ingest (Dramatiq actors come later)."""
