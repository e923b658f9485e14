"""The ingest service's error hierarchy."""


class IngestError(Exception):
    """Base of every error ingest raises on purpose."""


class Undeliverable(IngestError):
    """An event that can never be stored as it is: it goes to the dead-letter table."""
