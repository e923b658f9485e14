"""The runner authenticates to a NATS server that requires it (here a token; creds and nkeys go
through the same connection options)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NatsClient

from llem.devstack import NatsServer
from llem_control.bootstrap import bootstrap
from llem_control.connection import NatsSettings, connect
from llem_schemas.subjects import Layout

from .processes import service

pytestmark = pytest.mark.e2e
TOKEN = "s3cret-test-token"


@pytest.fixture
async def secured_nats() -> AsyncIterator[NatsServer]:
    path = Path(tempfile.mkdtemp(prefix="llem-auth-"))
    server = NatsServer(path, token=TOKEN).start()
    yield server
    server.stop()
    shutil.rmtree(path, ignore_errors=True)


async def test_runner_connects_with_a_token_and_is_refused_without(
    secured_nats: NatsServer, tmp_path: Path
) -> None:
    anonymous = NatsClient()
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await asyncio.wait_for(
            anonymous.connect(secured_nats.url, allow_reconnect=False, connect_timeout=2), 10
        )
    await anonymous.close()  # release the refused connection's socket
    nc = await connect(NatsSettings(nats_url=secured_nats.url, nats_token=TOKEN), name="test")
    js = nc.jetstream()
    layout = Layout(prefix=f"t{uuid.uuid4().hex[:12]}")
    await bootstrap(js, layout, ["cpu"])
    kv = await js.key_value(layout.runners_kv.bucket)
    env = {
        "LLEM_PREFIX": layout.prefix,
        "LLEM_STATE_DIR": str(tmp_path / "state"),
        "LLEM_HEARTBEAT_INTERVAL_S": "0.5",
    }

    env = {**os.environ, **env}
    args = ["run", "--nats", secured_nats.url, "--token", TOKEN, "--pool", "cpu", "--runner-id", "authed"]
    try:
        with service("llem-runner", args, env, tmp_path):
            for _ in range(100):
                try:
                    entry = await kv.get("authed")
                    break
                except nats.js.errors.NotFoundError:
                    await asyncio.sleep(0.2)
            else:
                raise AssertionError("no heartbeat from the authenticated runner")
        assert b'"runner_id":"authed"' in (entry.value or b"")
    finally:
        await nc.close()


def test_settings_choose_one_authentication_method_and_tls(tmp_path: Path) -> None:
    from faststream.nats.security import NatsCredentials, NatsNKey, NatsSecurity, NatsToken, NatsUserPassword

    from llem_control.faststream import broker_security
    from llem_runner.settings import RunnerSettings

    assert broker_security(RunnerSettings(nats_url="nats://h:4222")) is None
    assert isinstance(broker_security(RunnerSettings(nats_token="t")), NatsToken)
    assert isinstance(broker_security(RunnerSettings(nats_nkey_seed=str(tmp_path / "seed.nk"))), NatsNKey)
    assert isinstance(broker_security(RunnerSettings(nats_creds=str(tmp_path / "r.creds"))), NatsCredentials)
    assert isinstance(broker_security(RunnerSettings(nats_user="u", nats_password="p")), NatsUserPassword)
    tls_only = broker_security(RunnerSettings(nats_url="tls://coordinator:4222"))
    assert type(tls_only) is NatsSecurity and tls_only.ssl_context is not None
