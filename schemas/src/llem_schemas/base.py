"""Common base for every llem event: identity, version and time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID, uuid4

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

#: Version of the event envelope and payloads. Bump on any breaking change; consumers
#: dead-letter events whose version they do not know. 2: `run.failed` gained `failure_kind`
#: (README, "Schema versions").
SCHEMA_VERSION: Literal[2] = 2


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware timestamp, normalised to UTC. Naive timestamps are rejected."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    """Frozen, strict-shaped model: unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Event(Model):
    """Envelope fields shared by every event. `event_id` is the NATS `Nats-Msg-Id`."""

    schema_version: Literal[2] = Field(
        default=SCHEMA_VERSION,
        description="Version of the event schema. Consumers dead-letter versions they do not know.",
    )
    event_id: UUID = Field(
        default_factory=uuid4,
        description="Unique id of this event; published as the Nats-Msg-Id header for de-duplication.",
    )
    occurred_at: UtcDatetime = Field(
        default_factory=utc_now, description="When the event happened, UTC (RFC 3339)."
    )
