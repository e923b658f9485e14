"""Live streams on real NATS: a run's metric batches through the SSE endpoint of a real `llem-api`
process (history first, then live, then resume with Last-Event-ID), and a slow client that neither
slows the others nor grows the process."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from llem.devstack.ports import free_port, port_open
from llem_api.live import Hub, TopicSpec
from llem_schemas import MetricBatch, MetricSample
from llem_schemas.subjects import Layout
from tests.processes import service
from tests.waiting import wait_for

CID, JID = uuid.uuid4(), uuid.uuid4()


def _batch(run_id: uuid.UUID, seq: int) -> MetricBatch:
    return MetricBatch(
        run_id=run_id,
        job_id=JID,
        campaign_id=CID,
        runner_id="r1",
        attempt=1,
        seq=seq,
        meter="nvml",
        samples=[
            MetricSample(
                sampled_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seq), gpu_index=0, power_w=1.0
            )
        ],
    )


async def _publish(js: JetStreamContext, layout: Layout, batch: MetricBatch) -> None:
    await js.publish(layout.subject_for(batch), batch.model_dump_json().encode())


async def _events(resp: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """Parse server-sent events: blocks of `field: value` lines separated by a blank line."""
    block: dict[str, Any] = {}
    async for line in resp.aiter_lines():
        if not line:
            if "data" in block:
                yield block
            block = {}
            continue
        name, _, value = line.partition(":")
        block[name] = value.lstrip(" ")


async def _take(stream: AsyncIterator[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    return [await stream.__anext__() for _ in range(n)]


async def test_run_stream_gives_history_then_live_then_resumes_from_last_event_id(
    js: JetStreamContext, layout: Layout, service_env: dict[str, str], tmp_path: Path
) -> None:
    run_id = uuid.uuid4()
    for seq in range(3):  # before any client: the history
        await _publish(js, layout, _batch(run_id, seq))
    port = free_port()
    with service("llem-api", ["run"], {**service_env, "LLEM_API_PORT": str(port)}, tmp_path):
        await wait_for(lambda: port_open(port), 30, "llem-api listening")
        url = f"http://127.0.0.1:{port}/api/live/runs/{run_id}"
        async with httpx.AsyncClient(timeout=10) as client:
            async with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as resp:
                assert resp.status_code == 200
                assert resp.headers["content-type"].startswith("text/event-stream")
                assert "content-encoding" not in resp.headers, "events must not wait in a compressor"
                stream = _events(resp)  # one reader per response
                history = await asyncio.wait_for(_take(stream, 3), 10)
                assert [json.loads(e["data"])["seq"] for e in history] == [0, 1, 2]
                assert {e["event"] for e in history} == {"metric.batch"}
                for seq in (3, 4):
                    await _publish(js, layout, _batch(run_id, seq))
                live = await asyncio.wait_for(_take(stream, 2), 10)
                assert [json.loads(e["data"])["seq"] for e in live] == [3, 4]
                ids = [int(e["id"]) for e in history + live]
                assert ids == sorted(ids) and len(set(ids)) == 5
            # reconnect after the third message: only what came after it, then live again
            async with client.stream("GET", url, headers={"Last-Event-ID": str(ids[2])}) as resp:
                resumed = await asyncio.wait_for(_take(_events(resp), 2), 10)
                assert [json.loads(e["data"])["seq"] for e in resumed] == [3, 4]
            bad = await client.get(url, headers={"Last-Event-ID": "yesterday"})
            assert bad.status_code == 400 and "Last-Event-ID" in bad.text


async def test_a_slow_client_loses_old_messages_and_does_not_slow_the_others(
    nc: NatsClient, js: JetStreamContext, layout: Layout
) -> None:
    hub = Hub(nc, history=10, client_buffer=20)
    run_id = uuid.uuid4()
    spec = TopicSpec(f"run:{run_id}", (f"{layout.prefix}.metrics.*.{run_id}",), layout.metrics_stream)
    fast, slow = hub.stream(spec), hub.stream(spec)
    # both clients join: the first item each receives opens its subscription
    await _publish(js, layout, _batch(run_id, 0))
    first_fast = await asyncio.wait_for(fast.__anext__(), 5)
    first_slow = await asyncio.wait_for(slow.__anext__(), 5)
    assert json.loads(first_fast.data)["seq"] == json.loads(first_slow.data)["seq"] == 0
    assert len(hub.topics) == 1, "one subscription per topic, shared"

    received = []
    for seq in range(1, 201):
        await nc.publish(
            layout.subject_for(_batch(run_id, seq)), _batch(run_id, seq).model_dump_json().encode()
        )
        received.append(json.loads((await asyncio.wait_for(fast.__anext__(), 5)).data)["seq"])
    assert received == list(range(1, 201)), "the fast client got everything, in order, without waiting"

    client_queues = [c.queue.qsize() for c in next(iter(hub.topics.values())).clients]
    assert max(client_queues) <= 20, "a slow client's backlog is bounded"
    notice = await asyncio.wait_for(slow.__anext__(), 5)
    assert notice.event == "dropped" and json.loads(notice.data)["dropped"] == 180
    after = json.loads((await slow.__anext__()).data)["seq"]
    assert after == 181, "it continues with the newest messages it still holds"
    await fast.aclose()
    await slow.aclose()
    assert hub.topics == {}, "the last client leaving closes the topic"
