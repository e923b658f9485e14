"""Fencing: the newest attempt of a job owns it. A runner that lost its job (AckWait expired while it
was cut off, and another attempt started) must not publish a completion that counts.

Each runner writes only its own key per job, `<job_id>.<runner_id>` -> {"run_id", "attempt"}, so its
credentials can allow exactly `$KV.<bucket>.*.<runner_id>` and no runner can overwrite another's
claim. Ownership is read across the job's keys: the entry with the highest attempt owns the job.
Attempt numbers are JetStream's delivery counts, unique per delivery of one job, so there are no ties.

The job's keys are read in one batched direct get (`multi_last`, nats-server 2.11+), a read that needs
no consumer: runners may not create consumers.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from uuid import UUID

from nats.aio.client import Client as NatsClient
from nats.js.kv import KeyValue

from llem_runner.errors import RunnerError
from llem_schemas.subjects import Layout

DIRECT_GET_TIMEOUT_S = 5.0
READ_YOUR_WRITE_TRIES = 100
MAX_CLAIMS = 256  # keys read per job: one per runner that ever held an attempt of it


class FenceError(RunnerError):
    """The fence bucket could not be read."""

    kind = "unexpected"
    retryable = True


@dataclass(frozen=True)
class Claim:
    run_id: str
    attempt: int


class Fence:
    def __init__(self, nc: NatsClient, kv: KeyValue, layout: Layout, runner_id: str) -> None:
        self.nc, self.kv, self.layout, self.runner_id = nc, kv, layout, runner_id
        self.bucket = layout.fencing_kv.bucket

    @classmethod
    async def open(cls, nc: NatsClient, layout: Layout, runner_id: str) -> Fence:
        return cls(nc, await nc.jetstream().key_value(layout.fencing_kv.bucket), layout, runner_id)

    async def claim(self, job_id: UUID, run_id: UUID, attempt: int) -> bool:
        """Record this attempt unless a newer one holds the job; True when this attempt owns it."""
        if any(c.attempt > attempt for c in await self.claims(job_id)):
            return False
        value = json.dumps({"run_id": str(run_id), "attempt": attempt}).encode()
        await self.kv.put(self.layout.fence_key(job_id, self.runner_id), value)
        # Direct gets are answered by any replica: on a cluster a follower may not have our write
        # yet. Read until it shows (our own write is the one thing we know must be there).
        for _ in range(READ_YOUR_WRITE_TRIES):
            claims = await self.claims(job_id)
            if any(c.run_id == str(run_id) for c in claims):
                return max(claims, key=lambda c: c.attempt).run_id == str(run_id)
            await asyncio.sleep(0.05)
        raise FenceError(f"our claim of job {job_id} did not show in {self.bucket}")

    async def owns(self, job_id: UUID, run_id: UUID) -> bool:
        claims = await self.claims(job_id)
        if not claims:
            return False  # never claimed, or purged
        newest = max(claims, key=lambda c: c.attempt)
        return newest.run_id == str(run_id)

    async def claims(self, job_id: UUID) -> list[Claim]:
        """The last claim of every runner that held an attempt of the job."""
        stream = f"KV_{self.bucket}"
        request = {
            "multi_last": [f"$KV.{self.bucket}.{self.layout.fence_key(job_id, '*')}"],
            "batch": MAX_CLAIMS,
        }
        inbox = self.nc.new_inbox()
        sub = await self.nc.subscribe(inbox)
        try:
            await self.nc.publish(f"$JS.API.DIRECT.GET.{stream}", json.dumps(request).encode(), reply=inbox)
            claims: list[Claim] = []
            while True:
                try:
                    msg = await sub.next_msg(timeout=DIRECT_GET_TIMEOUT_S)
                except TimeoutError as exc:
                    raise FenceError(f"no answer reading the fence of job {job_id} from {stream}") from exc
                headers = msg.headers or {}
                status = headers.get("Status")
                if status in ("204", "404"):  # end of the batch; no keys at all
                    return claims
                if status:
                    raise FenceError(
                        f"reading the fence of job {job_id}: {status} {headers.get('Description', '')}"
                    )
                if headers.get("KV-Operation") in ("DEL", "PURGE"):
                    continue
                doc = json.loads(msg.data or b"{}")
                claims.append(Claim(str(doc.get("run_id", "")), int(doc.get("attempt", 0))))
        finally:
            await sub.unsubscribe()
