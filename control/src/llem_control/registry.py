"""The runner registry: the live fleet, read from the heartbeat KV bucket.

Each runner puts its heartbeat under its id; the bucket's TTL removes the key when the beats stop,
so "alive" is simply "has a key". A value that is not a valid heartbeat is skipped, not fatal.
"""

from __future__ import annotations

import logging

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from llem_control.kvkeys import bucket_keys
from llem_schemas.events import RunnerHeartbeat
from llem_schemas.subjects import Layout

log = logging.getLogger("llem.scheduler.registry")


async def live_runners(js: JetStreamContext, layout: Layout) -> list[RunnerHeartbeat]:
    kv = await js.key_value(layout.runners_kv.bucket)
    keys = await bucket_keys(kv)
    runners = []
    for key in keys:
        try:
            entry = await kv.get(key)
        except NotFoundError:
            continue  # expired between the listing and the read
        try:
            runners.append(RunnerHeartbeat.model_validate_json(entry.value or b""))
        except ValidationError as exc:
            log.warning(
                "runner %s: unreadable heartbeat skipped (%s)", key, exc.errors(include_url=False)[:1]
            )
    return sorted(runners, key=lambda r: r.runner_id)
