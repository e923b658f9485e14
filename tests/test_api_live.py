"""Live streams on real NATS: a run's metric batches through the SSE endpoint of a real `llem-api`
process (history first, then live, then resume with Last-Event-ID or `?last_event_id=`; an id of
another process's epoch replays the history), a campaign's metric batches, and a slow client that
neither slows the others nor grows the process."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from llem.devstack.ports import free_port, port_open
from llem_api import topics
from llem_api.live import EventId, Hub
from llem_schemas import MetricBatch, MetricSample
from llem_schemas.subjects import Layout
from tests.processes import service
from tests.sse import sse_events
from tests.waiting import wait_for

CID, JID = uuid.uuid4(), uuid.uuid4()


def _batch(run_id: uuid.UUID, seq: int, campaign_id: uuid.UUID = CID) -> MetricBatch:
    return MetricBatch(
        run_id=run_id,
        job_id=JID,
        campaign_id=campaign_id,
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
                stream = sse_events(resp)  # one reader per response
                history = await asyncio.wait_for(_take(stream, 3), 10)
                assert [json.loads(e["data"])["seq"] for e in history] == [0, 1, 2]
                assert {e["event"] for e in history} == {"metric.batch"}
                for seq in (3, 4):
                    await _publish(js, layout, _batch(run_id, seq))
                live = await asyncio.wait_for(_take(stream, 2), 10)
                assert [json.loads(e["data"])["seq"] for e in live] == [3, 4]
                ids = [e["id"] for e in history + live]
                epoch = ids[0].split("-")[0]
                numbers = [int(i.removeprefix(f"{epoch}-")) for i in ids]
                assert numbers == sorted(numbers) and len(set(numbers)) == 5, "one epoch, rising numbers"
                # reconnect after the third message (the first client keeps the topic open): only
                # what came after it
                async with client.stream("GET", url, headers={"Last-Event-ID": ids[2]}) as other_resp:
                    resumed = await asyncio.wait_for(_take(sse_events(other_resp), 2), 10)
                    assert [json.loads(e["data"])["seq"] for e in resumed] == [3, 4]
                # a new EventSource cannot set headers: the same resume point as a query parameter
                async with client.stream("GET", url, params={"last_event_id": ids[3]}) as other_resp:
                    resumed = await asyncio.wait_for(_take(sse_events(other_resp), 1), 10)
                    assert [json.loads(e["data"])["seq"] for e in resumed] == [4]
                # an id from an earlier process (another epoch): its numbers mean nothing here, replay all
                other = f"{'0' if epoch[0] != '0' else '1'}{epoch[1:]}-{numbers[2]}"
                stales: tuple[dict[str, Any], ...] = (
                    {"headers": {"Last-Event-ID": other}},
                    {"params": {"last_event_id": other}},
                )
                for stale in stales:
                    async with client.stream("GET", url, **stale) as other_resp:
                        replayed = await asyncio.wait_for(_take(sse_events(other_resp), 5), 10)
                        assert [json.loads(e["data"])["seq"] for e in replayed] == [0, 1, 2, 3, 4]
                async with client.stream("GET", url) as other_resp:
                    first = await asyncio.wait_for(other_resp.aiter_lines().__anext__(), 10)
                    assert first == "retry: 1000", "the first message tells the browser how soon to reconnect"
            bad = await client.get(url, headers={"Last-Event-ID": "yesterday"})
            assert bad.status_code == 400 and "Last-Event-ID" in bad.text
            bad_query = await client.get(url, params={"last_event_id": "yesterday"})
            assert bad_query.status_code == 400


async def test_campaign_metrics_stream_gives_the_last_batch_of_each_run_then_live(
    js: JetStreamContext, layout: Layout, service_env: dict[str, str], tmp_path: Path
) -> None:
    campaign, first_run, second_run = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for run_id, seq in ((first_run, 0), (first_run, 1), (second_run, 0)):
        await _publish(js, layout, _batch(run_id, seq, campaign))
    port = free_port()
    with service("llem-api", ["run"], {**service_env, "LLEM_API_PORT": str(port)}, tmp_path):
        await wait_for(lambda: port_open(port), 30, "llem-api listening")
        url = f"http://127.0.0.1:{port}/api/live/campaigns/{campaign}/metrics"
        async with httpx.AsyncClient(timeout=10) as client, client.stream("GET", url) as resp:
            assert resp.status_code == 200
            stream = sse_events(resp)
            history = [json.loads(e["data"]) for e in await asyncio.wait_for(_take(stream, 2), 10)]
            assert [(b["run_id"], b["seq"]) for b in history] == [(str(first_run), 1), (str(second_run), 0)]
            await _publish(js, layout, _batch(uuid.uuid4(), 0, uuid.uuid4()))  # another campaign's run
            third_run = uuid.uuid4()
            await _publish(js, layout, _batch(third_run, 7, campaign))
            [live] = await asyncio.wait_for(_take(stream, 1), 10)
            assert live["event"] == "metric.batch"
            assert (json.loads(live["data"])["run_id"], json.loads(live["data"])["seq"]) == (
                str(third_run),
                7,
            )


async def test_an_id_from_before_its_topic_reopened_replays_the_history(
    nc: NatsClient, js: JetStreamContext, layout: Layout
) -> None:
    hub = Hub(nc)
    run_id = uuid.uuid4()
    spec = topics.run_metrics(layout, run_id)
    for seq in range(3):
        await _publish(js, layout, _batch(run_id, seq))
    first = hub.stream(spec)
    assert isinstance(first, AsyncGenerator)
    seen = [await asyncio.wait_for(first.__anext__(), 5) for _ in range(3)]
    await first.aclose()
    assert hub.topics == {}, "closed with its last client: the ring is gone"
    again = hub.stream(spec, EventId.parse(hub.event_id(seen[1])))
    assert isinstance(again, AsyncGenerator)
    replayed = [json.loads((await asyncio.wait_for(again.__anext__(), 5)).data)["seq"] for _ in range(3)]
    assert replayed == [0, 1, 2], "the reopened topic numbered its history anew: all of it, none skipped"
    await again.aclose()


async def test_a_slow_client_loses_old_messages_and_does_not_slow_the_others(
    nc: NatsClient, js: JetStreamContext, layout: Layout
) -> None:
    hub = Hub(nc, history=10, client_buffer=20)
    run_id = uuid.uuid4()
    spec = topics.run_metrics(layout, run_id)
    fast, slow = hub.stream(spec), hub.stream(spec)
    assert isinstance(fast, AsyncGenerator) and isinstance(slow, AsyncGenerator)
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
