"""Who may do what on the bus: one NATS account per deployment, one nkey user per service and per
runner, each with only the subjects it uses, enforced by nats-server itself.

Pure functions of the `Layout`: `runner_permissions`, `service_permissions` and `render_auth_conf`
(the `accounts { ... }` block nats-server includes). `llem_control.authdir` keeps the users of a
deployment in a directory and writes this configuration from them.

A runner may:
- pull jobs only from its pools' durable consumers (bind: consumer info, next message, both ACK
  subject forms), never create, change or delete a stream or a consumer;
- publish only subjects that carry its own id (`Layout.runner_publish_subjects`); ingest refuses a
  payload whose runner id disagrees with its subject;
- write only its own heartbeat key and its own fence keys (`<job>.<runner>`), read the fence;
- receive only on its control subject and its private inbox `_INBOX_<runner_id>`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from llem_schemas.subjects import Layout

ACCOUNT = "LLEM"
Role = Literal["admin", "scheduler", "ingest", "api"]
ROLES: tuple[Role, ...] = ("admin", "scheduler", "ingest", "api")


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]

    def as_conf(self) -> dict[str, object]:
        return {"publish": {"allow": list(self.publish)}, "subscribe": {"allow": list(self.subscribe)}}


def runner_inbox(runner_id: str) -> str:
    """The inbox prefix a runner connects with (RunnerSettings derives the same)."""
    return f"_INBOX_{runner_id}"


def bind_consumer(stream: str, durable: str) -> tuple[str, ...]:
    """Read a durable pull consumer someone else declared: info, next batch, acks (v1 and v2 forms)."""
    return (
        f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
        f"$JS.ACK.*.*.{stream}.{durable}.>",
    )


def _kv_read(bucket: str) -> tuple[str, ...]:
    stream = f"KV_{bucket}"
    return (f"$JS.API.STREAM.INFO.{stream}", f"$JS.API.DIRECT.GET.{stream}", f"$JS.API.DIRECT.GET.{stream}.>")


def runner_permissions(layout: Layout, runner_id: str, pools: Sequence[str]) -> Permissions:
    runners, fence = layout.runners_kv.bucket, layout.fencing_kv.bucket
    publish: list[str] = []
    for pool in pools:
        spec = layout.pool_consumer(pool)
        publish += bind_consumer(spec.stream, spec.durable_name)
    publish += layout.runner_publish_subjects(runner_id)
    publish += _kv_read(runners) + _kv_read(fence)
    publish += (f"$KV.{runners}.{runner_id}", f"$KV.{fence}.{layout.fence_key('*', runner_id)}")
    subscribe = (f"{runner_inbox(runner_id)}.>", layout.control_subject(runner_id))
    return Permissions(tuple(publish), subscribe)


#: read-only JetStream API every service uses (stream/consumer info, message and KV reads)
_JS_READ = (
    "$JS.API.INFO",
    "$JS.API.STREAM.INFO.*",
    "$JS.API.STREAM.NAMES",
    "$JS.API.STREAM.LIST",
    "$JS.API.CONSUMER.INFO.*.*",
    "$JS.API.DIRECT.GET.>",
    "$JS.API.STREAM.MSG.GET.*",
)
#: ephemeral ordered consumers: history replays and KV key listings (never durable ones)
_EPHEMERAL = (
    "$JS.API.CONSUMER.CREATE.*",
    "$JS.API.CONSUMER.CREATE.*.>",
    "$JS.API.CONSUMER.DELETE.*.*",
    "$JS.FC.>",
)


def declare_layout(layout: Layout) -> tuple[str, ...]:
    """Create and update exactly this layout's streams, buckets and service consumers (bootstrap)."""
    streams = [s.name for s in layout.streams()] + [f"KV_{kv.bucket}" for kv in layout.kv_buckets()]
    consumers = [*layout.scheduler_consumers(), *layout.ingest_consumers()]
    return (
        *(f"$JS.API.STREAM.{op}.{name}" for name in streams for op in ("CREATE", "UPDATE")),
        *(f"$JS.API.CONSUMER.CREATE.{c.stream}.{c.durable_name}.>" for c in consumers),
        *(f"$JS.API.CONSUMER.CREATE.{c.stream}.{c.durable_name}" for c in consumers),
        *(f"$JS.API.CONSUMER.DURABLE.CREATE.{c.stream}.{c.durable_name}" for c in consumers),
    )


def service_permissions(layout: Layout, role: Role) -> Permissions:
    p = layout.prefix
    if role == "admin":  # bootstrap, the operator's CLI and tests: the whole account
        return Permissions((">",), (">",))
    state, campaigns = layout.job_state_kv.bucket, layout.campaigns_kv.bucket
    # submitting and cancelling campaigns (the scheduler and the API both do)
    control = (
        f"{p}.jobs.>",
        f"{p}.events.>",
        f"{p}.control.>",
        f"$KV.{state}.>",
        f"$KV.{campaigns}.>",
        f"$JS.API.STREAM.PURGE.{layout.jobs_stream}",
        f"$JS.API.STREAM.MSG.DELETE.{layout.jobs_stream}",  # a job that ran out of deliveries
        # a campaign's pools get their job consumers when it is submitted (bootstrap.ensure_pools)
        f"$JS.API.CONSUMER.CREATE.{layout.jobs_stream}.*",
        f"$JS.API.CONSUMER.CREATE.{layout.jobs_stream}.*.>",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{layout.jobs_stream}.*",
    )
    if role == "scheduler":  # it also owns the layout: it declares it again at start (no pools)
        binds = [
            s for spec in layout.scheduler_consumers() for s in bind_consumer(spec.stream, spec.durable_name)
        ]
        return Permissions((*_JS_READ, *_EPHEMERAL, *control, *binds, *declare_layout(layout)), ("_INBOX.>",))
    if role == "ingest":
        binds = [
            s for spec in layout.ingest_consumers() for s in bind_consumer(spec.stream, spec.durable_name)
        ]
        return Permissions((*_JS_READ, *binds), ("_INBOX.>",))
    # api: live streams (core subscriptions and history replays) and campaign writes
    return Permissions(_JS_READ + _EPHEMERAL + control, ("_INBOX.>", layout.all_events, layout.all_metrics))


@dataclass(frozen=True)
class User:
    """One nkey user: a service role, or a runner with its pools."""

    name: str
    nkey: str  # public key, U...
    role: Role | Literal["runner"]
    pools: tuple[str, ...] = ()
    prefix: str = "llem"  # the deployment whose subjects it may use

    def permissions(self) -> Permissions:
        layout = Layout(self.prefix)
        if self.role == "runner":
            return runner_permissions(layout, self.name, self.pools)
        return service_permissions(layout, self.role)


def render_auth_conf(users: Iterable[User]) -> str:
    """The `accounts` block for nats-server (JSON is valid NATS configuration)."""
    users = list(users)
    entries = [{"nkey": u.nkey, "permissions": u.permissions().as_conf()} for u in users]
    accounts = {ACCOUNT: {"jetstream": "enabled", "users": entries}}
    lines = [
        "# Generated by llem (llem nats init, llem runner add|revoke): do not edit by hand.",
        *(f"# {u.nkey}: {u.role} {u.name} of prefix {u.prefix}" for u in users),
        f"accounts: {json.dumps(accounts, indent=2)}",
        "",
    ]
    return "\n".join(lines)
