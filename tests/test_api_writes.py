"""Writes through the API: bearer tokens (hashed, scoped, revocable), campaign submission with the
scheduler's validation and errors, cancellation, size limits; on real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import psycopg
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext

from llem_api.app import create_app
from llem_api.settings import ApiSettings
from llem_api.tokens import create_token, revoke_token
from llem_control.campaigns import CampaignStore
from llem_schemas.subjects import Layout
from tests.natsauth import SeedOf


def _spec(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "pools": [{"name": "cpu", "gpu": False}],
        "models": [{"name": "tiny", "gguf": "tiny.gguf", "model_id": "org/tiny", "context_limit": 256}],
        "backends": [{"kind": "llama_cpp", "n_ctx": 256}, {"kind": "vllm"}],
        "workload": {"max_output_tokens": [8, 16]},
        "repetitions": 2,
    }


async def _finish_in_database(database_url: str, campaign_id: uuid.UUID) -> None:
    """The campaign's row as ingest writes it once the scheduler reports every job ended."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO campaigns (campaign_id, name, job_count, spec, submitted_at, status)"
            " VALUES (%s, 'x', 4, '{}', now(), 'finished')"
            " ON CONFLICT (campaign_id) DO UPDATE SET status = 'finished'",
            (campaign_id,),
        )


async def test_campaign_writes_need_a_scoped_token_and_use_the_schedulers_validation(
    seed_of: SeedOf, js: JetStreamContext, layout: Layout, nats_server: Any, database_url: str, tmp_path: Path
) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        token = await create_token(conn, "ci", ["campaigns:write"])
        spare = await create_token(conn, "to-revoke", ["campaigns:write"])
        assert await revoke_token(conn, uuid.UUID(hex=spare.split("_")[1]))
        stored = (await (await conn.execute("SELECT secret_sha256 FROM api_tokens")).fetchall())[0][0]
        assert token.split("_")[2].encode() not in bytes(stored), "only a hash is stored"

    settings = ApiSettings(
        nats_nkey_seed=seed_of("api", layout.prefix),
        database_url=database_url,
        nats_url=nats_server.url,
        prefix=layout.prefix,
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        auth = {"Authorization": f"Bearer {token}"}
        anonymous = await client.post("/api/campaigns", json=_spec("anon"))
        assert anonymous.status_code == 401 and anonymous.headers["content-type"].startswith(
            "application/problem"
        )
        revoked = await client.post(
            "/api/campaigns", json=_spec("x"), headers={"Authorization": f"Bearer {spare}"}
        )
        assert revoked.status_code == 401
        garbage = await client.post(
            "/api/campaigns", json=_spec("x"), headers={"Authorization": "Bearer llem_zz_y"}
        )
        assert garbage.status_code == 401

        bad = _spec("bad")
        bad["backends"][0]["n_ctx"] = "big"
        refused = await client.post("/api/campaigns", json=bad, headers=auth)
        assert refused.status_code == 400 and "backends.0" in refused.text and "n_ctx" in refused.text
        assert (await js.stream_info(layout.jobs_stream)).state.messages == 0, "nothing published"

        created = await client.post("/api/campaigns", json=_spec("good"), headers=auth)
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["queued"] == 4 and body["already"] == 0
        assert [d["reason"] for d in body["dropped"]] == ["vLLM needs a GPU and pool 'cpu' has none"] * 2
        again = await client.post("/api/campaigns", json=_spec("good"), headers=auth)
        assert again.status_code == 201 and again.json()["queued"] == 0, "idempotent"
        assert (await js.stream_info(layout.jobs_stream)).state.messages == 4

        cid = body["campaign_id"]
        cancelled = await client.post(f"/api/campaigns/{cid}/cancel", json={"reason": "test"}, headers=auth)
        assert cancelled.status_code == 200, cancelled.text
        assert (await js.stream_info(layout.jobs_stream)).state.messages == 0, "queued jobs removed"
        record, _ = await CampaignStore(await js.key_value(layout.campaigns_kv.bucket)).get(uuid.UUID(cid))
        assert record is not None and record.cancel_reason == "test"
        await _finish_in_database(database_url, uuid.UUID(cid))  # a stale row: its cancel not ingested yet
        twice = await client.post(f"/api/campaigns/{cid}/cancel", json={"reason": "again"}, headers=auth)
        assert twice.status_code == 200, "idempotent: a cancelled campaign stays cancelled"
        record, _ = await CampaignStore(await js.key_value(layout.campaigns_kv.bucket)).get(uuid.UUID(cid))
        assert record is not None and record.cancel_reason == "test", "the first cancel's reason stays"

        other = await client.post("/api/campaigns", json=_spec("finished"), headers=auth)
        finished = other.json()["campaign_id"]
        await _finish_in_database(database_url, uuid.UUID(finished))
        late = await client.post(f"/api/campaigns/{finished}/cancel", json={}, headers=auth)
        assert late.status_code == 409 and late.headers["content-type"].startswith("application/problem")
        assert late.json()["detail"] == f"campaign {finished} has finished: nothing to cancel"
        record, _ = await CampaignStore(await js.key_value(layout.campaigns_kv.bucket)).get(
            uuid.UUID(finished)
        )
        assert record is not None and not record.cancelled, "a refused cancel changes nothing"
        unknown = await client.post(f"/api/campaigns/{uuid.uuid4()}/cancel", json={}, headers=auth)
        assert unknown.status_code == 404

        huge = await client.post(
            "/api/campaigns",
            content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
            headers={**auth, "Content-Type": "application/json"},
        )
        assert huge.status_code == 413


async def test_the_token_guard_runs_before_the_body_and_checks_the_scope(
    seed_of: SeedOf, layout: Layout, nats_server: Any, database_url: str
) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        unscoped = await create_token(conn, "read-only", [])
    settings = ApiSettings(
        nats_nkey_seed=seed_of("api", layout.prefix),
        database_url=database_url,
        nats_url=nats_server.url,
        prefix=layout.prefix,
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        for path in ("/api/campaigns", f"/api/campaigns/{uuid.uuid4()}/cancel"):
            anonymous = await client.post(
                path, content=b"{not json", headers={"Content-Type": "application/json"}
            )
            assert anonymous.status_code == 401, "refused before its body is read"
            assert anonymous.json()["detail"].startswith(
                "this endpoint needs `Authorization: Bearer <token>`"
            )
            lacking = await client.post(path, json={}, headers={"Authorization": f"Bearer {unscoped}"})
            assert lacking.status_code == 403 and lacking.headers["content-type"].startswith(
                "application/problem"
            )
            assert lacking.json()["detail"] == "token 'read-only' lacks the scope 'campaigns:write'"
        preview = await client.post("/api/campaigns/preview", json=_spec("p"))
        assert preview.status_code == 200, "the preview needs no token"


async def test_writes_are_rate_limited_and_the_token_cli_works(
    seed_of: SeedOf, layout: Layout, nats_server: Any, database_url: str, service_env: dict[str, str]
) -> None:
    import subprocess
    import sys

    cli = str(Path(sys.executable).parent / "llem-api")
    made = await asyncio.to_thread(
        subprocess.run,
        [cli, "token", "create", "--name", "cli"],
        env=service_env,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("llem_")
    settings = ApiSettings(
        nats_nkey_seed=seed_of("api", layout.prefix),
        database_url=database_url,
        nats_url=nats_server.url,
        prefix=layout.prefix,
        write_rate_per_minute=2,
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        auth = {"Authorization": f"Bearer {token}"}
        codes = [
            (await client.post(f"/api/campaigns/{uuid.uuid4()}/cancel", json={}, headers=auth)).status_code
            for _ in range(3)
        ]
        assert codes == [404, 404, 429]
        assert (await client.get("/healthz")).status_code == 200, "reads are not limited"
    revoked = await asyncio.to_thread(
        subprocess.run,
        [cli, "token", "revoke", token.split("_")[1]],
        env=service_env,
        capture_output=True,
        text=True,
    )
    assert "revoked" in revoked.stdout
