"""Listing a KV bucket's keys reliably.

nats-py's `KeyValue.keys()` can return no keys for a bucket that has some: its watcher sends the
"initial values done" marker when the consumer reports nothing pending and its callback has not
run yet, which happens when the values were pushed before the check (seen as an empty
`llem campaign status` in a fresh-clone CI run). The stream itself knows its subjects: one per key
holding a value (a key whose TTL expired has none left).
"""

from __future__ import annotations

from nats.js.errors import NotFoundError
from nats.js.kv import KeyValue


async def bucket_keys(kv: KeyValue) -> list[str]:
    """Every key that holds a value (read from the bucket's stream, not from a watcher)."""
    bucket = kv._name
    prefix = f"$KV.{bucket}."
    try:
        info = await kv._js.stream_info(f"KV_{bucket}", subjects_filter=f"{prefix}>")
    except NotFoundError:
        return []
    return sorted(subject[len(prefix) :] for subject in (info.state.subjects or {}))
