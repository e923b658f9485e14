"""HTTP caching, compression and the web app as the API serves them: ETags and 304s (the
leaderboard's from its cache generation, the others' from the body), gzip (live streams: tests/test_api_live.py),
the built app at / with client-side routes falling back to index.html, and cache headers."""

from __future__ import annotations

import gzip
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext

from llem_api.app import create_app
from llem_api.cache import RunsCache
from llem_api.errors import ExportError
from llem_api.export import static_index
from llem_api.http import accepts_gzip, matches
from llem_api.settings import ApiSettings
from llem_schemas.subjects import Layout
from tests import events
from tests.natsauth import SeedOf
from tests.processes import BIN
from tests.seeding import ingest
from tests.waiting import wait_for

CID = uuid.uuid4()


def _web(tmp_path: Path) -> Path:
    """A built app's shape: index.html (with the markers `llem export --format site` rewrites), a
    hashed asset and a plain file."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(
        '<!doctype html><html><head><meta name="llem-mode" content="api" /><base href="/" /></head>'
        '<body><div id="root"></div><script type="module" src="./assets/index-abc123.js"></script></body></html>'
    )
    (dist / "assets" / "index-abc123.js").write_text("console.log('llem');\n" * 100)
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return dist


@pytest.fixture
async def client(
    seed_of: SeedOf,
    js: JetStreamContext,
    layout: Layout,
    service_env: dict[str, str],
    database_url: str,
    tmp_path: Path,
) -> Any:
    job = events.leaderboard_job(CID, "m", "c1")
    await ingest(js, layout, service_env, tmp_path, events.measured_run(job, 0.4, 30, 100))
    settings = ApiSettings(
        nats_nkey_seed=seed_of("api", layout.prefix),
        database_url=database_url,
        nats_url=service_env["LLEM_NATS_URL"],
        prefix=layout.prefix,
        web_dir=_web(tmp_path),
    )
    app = create_app(settings)
    async with AsyncTestClient(app=app) as test_client:
        cache: RunsCache[Any] = app.state.runs_cache
        await wait_for(lambda: cache.listening, 10, "the leaderboard cache to listen")
        yield test_client


def test_header_parsing() -> None:
    assert accepts_gzip(b"gzip, deflate, br") and accepts_gzip(b"br;q=1.0, gzip;q=0.5") and accepts_gzip(b"*")
    assert not accepts_gzip(b"gzip;q=0") and not accepts_gzip(b"br") and not accepts_gzip(None)
    assert matches('W/"a", W/"b"', 'W/"b"') and matches('"b"', 'W/"b"') and matches("*", 'W/"x"')
    assert not matches('W/"a"', 'W/"b"') and not matches(None, 'W/"b"')


async def test_leaderboard_etag_comes_from_the_cache_generation_and_changes_with_the_runs(
    client: Any, js: JetStreamContext, layout: Layout, service_env: dict[str, str], tmp_path: Path
) -> None:
    first = await client.get("/api/leaderboard", params={"max_itl_ms": 50})
    etag = first.headers["etag"]
    assert (
        first.status_code == 200 and etag.startswith('W/"') and first.headers["cache-control"] == "no-cache"
    )
    again = await client.get("/api/leaderboard", params={"max_itl_ms": 50}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = await client.get("/api/leaderboard", params={"max_itl_ms": 60}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag, "other constraints, other tag"

    job = events.leaderboard_job(CID, "m2", "c2")
    await ingest(js, layout, service_env, tmp_path, events.measured_run(job, 0.2, 30, 100))

    async def changed() -> Any:
        resp = await client.get(
            "/api/leaderboard", params={"max_itl_ms": 50}, headers={"If-None-Match": etag}
        )
        return resp if resp.status_code == 200 else None

    fresh = await changed() or await wait_for(changed, 10, "the new run to change the tag")
    assert {r["model"] for r in fresh.json()["best"]} == {"m", "m2"} and fresh.headers["etag"] != etag
    configs = await client.get("/api/configurations")
    revalidated = await client.get("/api/configurations", headers={"If-None-Match": configs.headers["etag"]})
    assert revalidated.status_code == 304


async def test_other_reads_get_an_etag_of_their_body_and_errors_none(client: Any) -> None:
    runs = await client.get("/api/runs")
    run_id = runs.json()["items"][0]["run_id"]
    detail = await client.get(f"/api/runs/{run_id}")
    tag = detail.headers["etag"]
    assert (
        detail.status_code == 200 and tag.startswith('W/"') and detail.headers["cache-control"] == "no-cache"
    )
    assert (await client.get(f"/api/runs/{run_id}", headers={"If-None-Match": tag})).status_code == 304
    assert (await client.get(f"/api/runs/{run_id}", headers={"If-None-Match": 'W/"x"'})).status_code == 200
    missing = await client.get(f"/api/runs/{uuid.uuid4()}")
    assert missing.status_code == 404 and "etag" not in missing.headers
    assert "etag" not in (await client.get("/healthz")).headers, "only /api/ reads are validated"


async def test_gzip_for_clients_that_accept_it(client: Any) -> None:
    plain = await client.get("/api/configurations", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    zipped = await client.get("/api/configurations", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.json() == plain.json(), "httpx decodes it: the same document"
    assert int(zipped.headers["content-length"]) < len(plain.content)
    small = await client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers, "below the minimum size"
    csv_run = (await client.get("/api/runs")).json()["items"][0]["run_id"]
    csv = await client.get(f"/api/runs/{csv_run}/download/requests.csv", headers={"Accept-Encoding": "gzip"})
    assert csv.status_code == 200 and csv.text.startswith("repetition,")

    async def raw() -> bytes:
        async with client.stream("GET", "/api/configurations", headers={"Accept-Encoding": "gzip"}) as resp:
            return b"".join([chunk async for chunk in resp.aiter_raw()])

    first, second = await raw(), await raw()
    assert first == second and gzip.decompress(first) == plain.content, "deterministic (no timestamp)"


async def test_the_web_app_is_served_at_the_root_with_client_side_routes(client: Any) -> None:
    home = await client.get("/")
    assert home.status_code == 200 and '<div id="root">' in home.text
    assert home.headers["cache-control"] == "no-cache", "index.html is revalidated: new builds show up"
    for route in ("/runs", "/runs/0f9e1c2a-0000-4000-8000-000000000000", "/leaderboard?max_itl_ms=50"):
        page = await client.get(route)
        assert page.status_code == 200 and page.text == home.text, route
    asset = await client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"})
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    assert asset.headers["content-encoding"] == "gzip" and asset.text.startswith("console.log")
    assert "max-age=300" in (await client.get("/favicon.svg")).headers["cache-control"]
    for missing in ("/assets/gone-123.js", "/robots.txt", "/../pyproject.toml"):
        assert (await client.get(missing)).status_code == 404, missing
    assert (await client.get("/schema/openapi.json")).json()["info"]["title"] == "llem API", "still served"
    assert "llem_api_requests_total" in (await client.get("/metrics")).text
    unknown_api = await client.get("/api/nothing-here")
    assert unknown_api.status_code == 404 and unknown_api.headers["content-type"].startswith(
        "application/problem+json"
    ), "no index.html under /api/"


def test_the_static_site_switches_the_built_index_to_static_mode() -> None:
    built = '<head><base href="/" /><meta name="llem-mode" content="api" /></head>'
    static = static_index(built)
    assert 'content="static"' in static and "<base" not in static, "relative URLs: any folder of any host"
    with pytest.raises(ExportError, match="rebuild the web app"):
        static_index("<head></head>")  # a build from before the markers: refused, not half-converted


def test_llem_export_site_says_when_the_app_is_not_built(database_url: str, tmp_path: Path) -> None:
    missing = subprocess.run(
        [
            str(BIN / "llem"),
            "export",
            "--format",
            "site",
            "--out",
            str(tmp_path / "site"),
            "--database",
            database_url,
            "--web-dir",
            str(tmp_path / "nothing"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2 and "build the web app first (make web)" in missing.stderr
    assert not (tmp_path / "site").exists(), "nothing written"
