"""Campaign records: what the scheduler must remember about a campaign across restarts.

One key per campaign in the `<prefix>_campaigns` KV bucket: its pools (to purge their queues on
cancel), its job count (for progress), and whether it was cancelled (so late run events of a
cancelled campaign are stopped, even after a restart).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from nats.js.errors import KeyWrongLastSequenceError, NotFoundError
from nats.js.kv import KeyValue
from pydantic import Field

from llem_control.errors import StateConflict
from llem_control.kvkeys import bucket_keys
from llem_schemas.base import Model, UtcDatetime


class CampaignRecord(Model):
    campaign_id: UUID
    name: str
    pools: list[str] = Field(min_length=1)
    job_count: int = Field(ge=0)
    submitted_at: UtcDatetime
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None


class CampaignStore:
    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def get(self, campaign_id: UUID) -> tuple[CampaignRecord | None, int]:
        try:
            entry = await self.kv.get(str(campaign_id))
        except NotFoundError:
            return None, 0
        return CampaignRecord.model_validate_json(entry.value or b"{}"), entry.revision or 0

    async def create(self, record: CampaignRecord) -> bool:
        """Record a submitted campaign; False when it was already recorded (a resubmit)."""
        try:
            await self.kv.create(str(record.campaign_id), record.model_dump_json().encode())
        except KeyWrongLastSequenceError:
            return False
        return True

    async def cancel(self, campaign_id: UUID, at: datetime, reason: str) -> CampaignRecord | None:
        """Mark cancelled (idempotent: the first cancel's time and reason stay); None if unknown."""
        for _ in range(20):
            record, revision = await self.get(campaign_id)
            if record is None or record.cancelled:
                return record
            new = record.model_copy(update={"cancelled_at": at, "cancel_reason": reason})
            try:
                await self.kv.update(str(campaign_id), new.model_dump_json().encode(), last=revision)
            except KeyWrongLastSequenceError:
                continue
            return new
        raise StateConflict(f"campaign {campaign_id}: record kept changing under us")

    async def all(self) -> list[CampaignRecord]:
        keys = await bucket_keys(self.kv)
        records = []
        for key in keys:
            record, _ = await self.get(UUID(key))
            if record is not None:
                records.append(record)
        return records
