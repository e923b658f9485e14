"""Fencing: the newest attempt of a job owns it. A runner that lost its job (AckWait expired while it
was cut off, and another attempt started) must not publish a completion that counts.

The owner is kept in a KV bucket: job_id -> {"run_id", "attempt"}, claimed by compare-and-set.
"""

from __future__ import annotations

import json
from uuid import UUID

from nats.js.errors import KeyWrongLastSequenceError, NotFoundError
from nats.js.kv import KeyValue


class Fence:
    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def claim(self, job_id: UUID, run_id: UUID, attempt: int) -> bool:
        """Become the owner unless a newer attempt already is. Returns True when we own the job."""
        value = json.dumps({"run_id": str(run_id), "attempt": attempt}).encode()
        for _ in range(5):
            try:
                entry = await self.kv.get(str(job_id))
            except NotFoundError:  # never set, deleted or purged
                try:
                    await self.kv.create(str(job_id), value)
                    return True
                except KeyWrongLastSequenceError:
                    continue
            current = json.loads(entry.value or b"{}")
            if int(current.get("attempt", 0)) > attempt:
                return False
            try:
                await self.kv.update(str(job_id), value, last=entry.revision)
                return True
            except KeyWrongLastSequenceError:
                continue
        return False

    async def owns(self, job_id: UUID, run_id: UUID) -> bool:
        try:
            entry = await self.kv.get(str(job_id))
        except NotFoundError:  # never set, deleted or purged
            return False
        return bool(json.loads(entry.value or b"{}").get("run_id") == str(run_id))
