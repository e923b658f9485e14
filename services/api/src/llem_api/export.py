"""The static exports: JSON files a static site serves as they are, and the whole site.

`export_leaderboard` is produced by the same code as `GET /api/leaderboard` (no constraints) and
`GET /api/configurations`, so they agree:
- `leaderboard.json`: every model's best configuration and every configuration's point;
- `configurations.json`: every configuration's full row (what the web app ranks under constraints);
- `models/<slug>.json` and `tasks/<slug>.json`: the leaderboard filtered to one model or one task;
- `index.json`: schema version, generation time, and the list of those files.

`export_site` writes the built web app with that export under `data/`: one folder any static host
serves (phase A: no server, no live pages), the app switched to static mode in its `index.html`.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from psycopg import AsyncConnection

from llem_api.errors import ExportError
from llem_api.leaderboard import (
    SCHEMA_VERSION,
    Constraints,
    Filters,
    all_configurations,
    build,
    fetch_configs,
)

SITE_DATA = "data"
# what the built index.html says (served by the API), and what the static site says instead
API_MODE = ('<meta name="llem-mode" content="api" />', '<base href="/" />')
STATIC_MODE = ('<meta name="llem-mode" content="static" />', "")


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unnamed"


async def export_leaderboard(conn: AsyncConnection, out: Path) -> list[Path]:
    configs = await fetch_configs(conn, Filters())
    none = Constraints()
    written: list[Path] = []

    def write(relative: str, doc: object) -> str:
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(msgspec.json.format(msgspec.json.encode(doc), indent=2) + b"\n")
        written.append(path)
        return relative

    write("leaderboard.json", build(configs, Filters(), none))
    write("configurations.json", await all_configurations(conn, Filters(), configs))
    models = sorted({c["model"] for c in configs})
    tasks = sorted({c["task"] for c in configs if c["task"]})
    model_files = {
        m: write(
            f"models/{slug(m)}.json", build([c for c in configs if c["model"] == m], Filters(model=m), none)
        )
        for m in models
    }
    task_files = {
        t: write(
            f"tasks/{slug(t)}.json", build([c for c in configs if c["task"] == t], Filters(task=t), none)
        )
        for t in tasks
    }
    write(
        "index.json",
        {
            "schema_version": SCHEMA_VERSION,
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "leaderboard": "leaderboard.json",
            "configurations": "configurations.json",
            "models": [{"model": m, "file": f} for m, f in model_files.items()],
            "tasks": [{"task": t, "file": f} for t, f in task_files.items()],
        },
    )
    return written


def static_index(html: str) -> str:
    """The built app's index.html switched to static mode (relative URLs, no API)."""
    for marker in API_MODE:
        if marker not in html:
            raise ExportError(f"the built index.html lacks {marker!r}: rebuild the web app (make web)")
    for api, static in zip(API_MODE, STATIC_MODE, strict=True):
        html = html.replace(api, static)
    return html


async def export_site(conn: AsyncConnection, web_dist: Path, out: Path) -> list[Path]:
    """The built web app (`web_dist`) plus the leaderboard export under `out/data/`."""
    if not (web_dist / "index.html").is_file():
        raise ExportError(f"{web_dist / 'index.html'} is missing: build the web app first (make web)")
    await asyncio.to_thread(_copy_app, web_dist, out)
    return [out / "index.html", *await export_leaderboard(conn, out / SITE_DATA)]


def _copy_app(web_dist: Path, out: Path) -> None:
    html = static_index((web_dist / "index.html").read_text())
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(web_dist, out, dirs_exist_ok=True)
    (out / "index.html").write_text(html)
    data = out / SITE_DATA
    if data.exists():
        shutil.rmtree(data)  # a model or task gone from the database must not linger
