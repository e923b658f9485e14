"""The one owner of the JetStream layout: declares (or updates) streams and pool consumers.

Every other service binds to what this declares and never redeclares it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from nats.js import JetStreamContext
from nats.js.api import (
    ConsumerConfig,
    DiscardPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from llem_scheduler.errors import BootstrapError
from llem_schemas.subjects import ConsumerSpec, KvSpec, Layout, StreamSpec

log = logging.getLogger("llem.scheduler.bootstrap")


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
        await js.add_consumer(spec.stream, ConsumerConfig(**spec.config_kwargs()))  # type: ignore[arg-type]


async def ensure_kv(js: JetStreamContext, specs: Iterable[KvSpec]) -> None:
    for spec in specs:
        await js.create_key_value(
            KeyValueConfig(
                bucket=spec.bucket, ttl=spec.ttl_s or None, description=spec.description, history=1
            )
        )


async def bootstrap(js: JetStreamContext, layout: Layout, pools: Iterable[str] = ()) -> None:
    """Declare streams, KV buckets, the ingest consumers and one consumer per named pool. Idempotent."""
    await ensure_streams(js, layout)
    await ensure_kv(js, [layout.runners_kv, layout.fencing_kv, layout.job_state_kv])
    await ensure_consumers(js, [*layout.ingest_consumers(), *(layout.pool_consumer(p) for p in pools)])
