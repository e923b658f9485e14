"""Seeding a test database through the real ingest path: publish events, run `llem-ingest` until
its consumers have acked every one (ingest acks only after commit, so the rows are there)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nats.js import JetStreamContext

from llem_schemas.base import Event
from llem_schemas.subjects import Layout
from tests.processes import service
from tests.waiting import wait_for


async def ingest(
    js: JetStreamContext, layout: Layout, env: dict[str, str], tmp_path: Path, seed: Sequence[Event]
) -> None:
    last: dict[str, int] = {}  # stream -> sequence of its last seed message
    for event in seed:
        ack = await js.publish(layout.subject_for(event), event.model_dump_json().encode())
        last[ack.stream] = ack.seq
    durables = {c.stream: c.durable_name for c in layout.ingest_consumers()}

    async def stored() -> bool:
        for stream, seq in last.items():
            if (await js.consumer_info(stream, durables[stream])).ack_floor.stream_seq < seq:
                return False
        return True

    with service("llem-ingest", ["run"], env, tmp_path):
        await wait_for(stored, 30, "the seed stored")
