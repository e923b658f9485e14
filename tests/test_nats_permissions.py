"""Scoped credentials, enforced by nats-server itself (its own server here, so that the refusals this
test provokes stay out of the session server's log, which must show none).

A runner's user may bind to its pools' consumers, publish its own subjects, write its own heartbeat
and fence keys, and listen on its control subject and private inbox; everything else is refused by
the server, and the refusal is asserted on the server's permission violation, not on a timeout.
Revoking a runner disconnects it and it cannot connect again; the bus and other clients go on.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NatsClient

from llem.devstack import NatsServer
from llem_control.authdir import AuthDir
from llem_control.bootstrap import bootstrap
from llem_control.natsauth import runner_inbox
from llem_runner.fencing import Fence
from llem_schemas.subjects import Layout

from .natsauth import reload_and_wait
from .waiting import wait_for

pytestmark = pytest.mark.e2e
LAYOUT = Layout("perm")


@pytest.fixture(scope="module")
def auth() -> Iterator[tuple[AuthDir, NatsServer]]:
    path = Path(tempfile.mkdtemp(prefix="llem-perm-"))
    auth = AuthDir(path)
    auth.init(LAYOUT.prefix)
    server = NatsServer(path, auth=True).start()
    yield auth, server
    server.stop()
    shutil.rmtree(path, ignore_errors=True)


def _monitor(server: NatsServer) -> str:
    return f"http://127.0.0.1:{server.monitor_port}"


@pytest.fixture(scope="module")
async def admin(auth: tuple[AuthDir, NatsServer]) -> AsyncIterator[NatsClient]:
    dir_, server = auth
    nc = await nats.connect(server.url, nkeys_seed=str(dir_.seed_path("admin")))
    await bootstrap(nc.jetstream(), LAYOUT, ["cpu", "gpu"])
    yield nc
    await nc.close()


class Client:
    """A runner's connection that records what the server refused."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.disconnects = 0
        self.nc = NatsClient()

    async def connect(self, url: str, seed: Path, name: str) -> Client:
        async def on_error(exc: Exception) -> None:
            self.errors.append(str(exc))

        async def on_disconnect() -> None:
            self.disconnects += 1

        await self.nc.connect(
            url,
            nkeys_seed=str(seed),
            inbox_prefix=runner_inbox(name).encode(),
            error_cb=on_error,
            disconnected_cb=on_disconnect,
            max_reconnect_attempts=2,
            reconnect_time_wait=1,
        )
        return self

    async def refused(self, what: str) -> None:
        """Wait for the server's violation naming `what` (a subject; nats-py lower-cases the
        server's message)."""
        await wait_for(
            lambda: any(what.lower() in e for e in self.errors), 10, f"the server to refuse {what}"
        )


async def _runner(auth: tuple[AuthDir, NatsServer], name: str, pools: list[str]) -> Client:
    dir_, server = auth
    join = dir_.add_runner(name, pools, server.url, LAYOUT.prefix)
    reload_and_wait(dir_, _monitor(server))
    return await Client().connect(server.url, join.seed_file, name)


async def test_a_runner_may_do_its_own_work_and_nothing_else(
    auth: tuple[AuthDir, NatsServer], admin: NatsClient
) -> None:
    server = auth[1]
    runner = await _runner(auth, "r1", ["cpu"])
    nc, js = runner.nc, runner.nc.jetstream()
    job = uuid.uuid4()
    try:
        # its own work: bind to its pool's consumer and fetch, publish its subjects, KV keys, fence
        await admin.jetstream().publish(LAYOUT.job_subject("cpu", uuid.uuid4()), b"{}")
        sub = await js.pull_subscribe_bind(
            "pool-cpu", stream=LAYOUT.jobs_stream, inbox_prefix=f"{runner_inbox('r1')}.".encode()
        )
        [msg] = await sub.fetch(1, timeout=10)
        await msg.ack_sync()
        ack = await js.publish(LAYOUT.run_subject("r1", uuid.uuid4(), uuid.uuid4(), "started"), b"{}")
        assert ack.stream == LAYOUT.events_stream
        await js.publish(LAYOUT.metrics_subject("r1", uuid.uuid4(), uuid.uuid4()), b"{}")
        heartbeats = await js.key_value(LAYOUT.runners_kv.bucket)
        await heartbeats.put("r1", b"{}")
        fence = await Fence.open(nc, LAYOUT, "r1")
        assert await fence.claim(job, uuid.uuid4(), attempt=1)
        control = await nc.subscribe(LAYOUT.control_subject("r1"))
        await nc.flush()  # the server has the subscription before the message is sent
        # resent until it arrives: on a busy machine the subscription may reach the server late
        got = None
        for _ in range(50):
            await admin.publish(LAYOUT.control_subject("r1"), b"stop")
            await admin.flush()
            try:
                got = await control.next_msg(timeout=0.2)
                break
            except TimeoutError:
                continue
        assert got is not None, f"no control message; errors: {runner.errors}"
        assert got.data == b"stop"
        assert not runner.errors, runner.errors

        # everything else, refused by the server
        other_pool = f"$JS.API.CONSUMER.MSG.NEXT.{LAYOUT.jobs_stream}.pool-gpu"
        await nc.publish(other_pool, b'{"batch": 1}', reply=f"{runner_inbox('r1')}.x")
        await runner.refused(other_pool)
        for subject in (
            LAYOUT.run_subject("r2", uuid.uuid4(), uuid.uuid4(), "completed"),  # another runner's runs
            LAYOUT.metrics_subject("r2", uuid.uuid4(), uuid.uuid4()),
            LAYOUT.heartbeat_subject("r2"),
            LAYOUT.job_subject("cpu", uuid.uuid4()),  # queue jobs
            f"{LAYOUT.prefix}.events.campaign.{uuid.uuid4()}.cancelled",  # cancel campaigns
            f"$KV.{LAYOUT.runners_kv.bucket}.r2",  # another runner's heartbeat key
            f"$KV.{LAYOUT.fencing_kv.bucket}.{LAYOUT.fence_key(job, 'r2')}",  # another runner's fence key
            f"$KV.{LAYOUT.job_state_kv.bucket}.{job}",  # the scheduler's job state
            f"$JS.API.STREAM.DELETE.{LAYOUT.jobs_stream}",  # stream administration
            f"$JS.API.STREAM.UPDATE.{LAYOUT.events_stream}",
            f"$JS.API.CONSUMER.CREATE.{LAYOUT.jobs_stream}.mine.{LAYOUT.prefix}.jobs.gpu.>",
            f"$JS.API.CONSUMER.DELETE.{LAYOUT.jobs_stream}.pool-cpu",
            f"$JS.API.STREAM.PURGE.{LAYOUT.jobs_stream}",
        ):
            await nc.publish(subject, b"{}")
            await runner.refused(f'publish to "{subject}"')
        for subject in (
            LAYOUT.control_subject("r2"),
            "_INBOX.>",
            f"{runner_inbox('r2')}.>",
            LAYOUT.all_events,
        ):
            await nc.subscribe(subject)
            await runner.refused(f'subscription to "{subject}"')
        # the refused writes changed nothing
        info = await admin.jetstream().stream_info(LAYOUT.jobs_stream)
        assert info.config.name == LAYOUT.jobs_stream
        assert [c.attempt for c in await fence.claims(job)] == [1]
        log = server.log_path.read_text()
        assert "Publish Violation" in log and "Subscription Violation" in log, (
            "the server logged each refusal"
        )
    finally:
        await nc.close()


async def test_a_revoked_runner_is_cut_off_and_cannot_connect_again(
    auth: tuple[AuthDir, NatsServer], admin: NatsClient
) -> None:
    dir_, server = auth
    runner = await _runner(auth, "doomed", ["gpu"])
    user = dir_.user("doomed", LAYOUT.prefix, "runner")
    assert user is not None
    seed = dir_.seed_path(user)
    kept = Path(tempfile.mkdtemp()) / "doomed.nk"
    shutil.copy(seed, kept)  # what the box still holds after the revocation
    try:
        await runner.nc.jetstream().publish(LAYOUT.heartbeat_subject("doomed"), b"{}")
        dir_.revoke_runner("doomed", LAYOUT.prefix)
        reload_and_wait(dir_, _monitor(server))
        await wait_for(lambda: runner.disconnects > 0, 10, "the revoked runner to be disconnected")
        await wait_for(lambda: not runner.nc.is_connected, 10, "the revoked runner to stay off")
        assert not seed.exists(), "its seed is gone from the control host"
        again = NatsClient()
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await asyncio.wait_for(
                again.connect(server.url, nkeys_seed=str(kept), allow_reconnect=False, connect_timeout=2), 10
            )
        await again.close()
        assert admin.is_connected, "other clients rode through the reload"
        assert await admin.jetstream().stream_info(LAYOUT.jobs_stream), "the bus did not restart"
        assert json.loads((dir_.path / "llem-auth.json").read_text())["users"], "the other users remain"
    finally:
        await runner.nc.close()
