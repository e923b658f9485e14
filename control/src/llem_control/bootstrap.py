"""The JetStream layout as nats-py configs, and its one declaration: streams, KV buckets, pool consumers.

Every other service binds to what this declares and never redeclares it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, NotFoundError

from llem_control.errors import BootstrapError
from llem_schemas.subjects import ConsumerSpec, KvSpec, Layout, StreamSpec

log = logging.getLogger("llem.scheduler.bootstrap")
STREAM_NAME_IN_USE = 10058  # JetStream: "stream name already in use with a different configuration"


def stream_config(spec: StreamSpec) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        retention=RetentionPolicy(spec.retention),
        discard=DiscardPolicy(spec.discard),
        duplicate_window=spec.duplicate_window_s,
        max_age=spec.max_age_s,
        max_bytes=spec.max_bytes,
        max_msg_size=spec.max_msg_size,
        storage=StorageType.FILE,
        num_replicas=spec.replicas,
        description=spec.description,
    )


def consumer_config(spec: ConsumerSpec) -> ConsumerConfig:
    """The durable pull consumer as nats-py declares (and FastStream binds to) it."""
    many = bool(spec.more_subjects)
    return ConsumerConfig(
        durable_name=spec.durable_name,
        filter_subject=None if many else spec.filter_subject,
        filter_subjects=list(spec.filter_subjects) if many else None,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=spec.ack_wait_s,
        max_deliver=spec.max_deliver,
        max_ack_pending=spec.max_ack_pending,
        description=spec.description,
    )


async def ensure_streams(js: JetStreamContext, layout: Layout) -> None:
    for spec in layout.streams():
        config = stream_config(spec)
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config)
            log.info("created stream %s", spec.name)
            continue
        try:
            await js.update_stream(config)
        except Exception as exc:
            raise BootstrapError(f"stream {spec.name} exists and cannot be updated: {exc}") from exc


async def ensure_consumers(js: JetStreamContext, specs: Iterable[ConsumerSpec]) -> None:
    for spec in specs:
        await js.add_consumer(spec.stream, consumer_config(spec))


async def ensure_kv(js: JetStreamContext, specs: Iterable[KvSpec]) -> None:
    """Create each bucket, or bring an existing one's TTL and description up to date."""
    for spec in specs:
        config = KeyValueConfig(
            bucket=spec.bucket,
            ttl=spec.ttl_s or None,
            description=spec.description,
            history=1,
            replicas=spec.replicas,
            direct=spec.direct,  # leader reads for the scheduler's compare-and-set state
        )
        try:
            await js.create_key_value(config)
        except BadRequestError as exc:
            if exc.err_code != STREAM_NAME_IN_USE:
                raise
            stream = (await js.stream_info(f"KV_{spec.bucket}")).config
            stream.max_age, stream.description = spec.ttl_s or None, spec.description
            stream.allow_direct, stream.num_replicas = spec.direct, spec.replicas
            if spec.ttl_s:  # the server wants the duplicate window within max age
                stream.duplicate_window = min(stream.duplicate_window or spec.ttl_s, spec.ttl_s)
            try:
                await js.update_stream(stream)
            except Exception as exc:
                raise BootstrapError(f"KV bucket {spec.bucket} exists and cannot be updated: {exc}") from exc
            log.info("updated KV bucket %s (ttl %s s)", spec.bucket, spec.ttl_s)


async def bootstrap(js: JetStreamContext, layout: Layout, pools: Iterable[str] = ()) -> None:
    """Declare streams, KV buckets, the ingest consumers and one consumer per named pool. Idempotent."""
    await ensure_streams(js, layout)
    await ensure_kv(js, layout.kv_buckets())
    await ensure_consumers(
        js,
        [
            *layout.ingest_consumers(),
            *layout.scheduler_consumers(),
            *(layout.pool_consumer(p) for p in pools),
        ],
    )


async def ensure_pools(js: JetStreamContext, layout: Layout, pools: Iterable[str]) -> None:
    """The pools' job consumers, before their jobs are queued (a submitter's part of bootstrap).
    Declares the whole layout only when it is missing: a scoped user may create pool consumers
    but not streams (`natsauth.service_permissions`)."""
    try:
        await js.stream_info(layout.jobs_stream)
    except NotFoundError:
        await bootstrap(js, layout, pools)
        return
    await ensure_consumers(js, [layout.pool_consumer(p) for p in pools])
