"""The static leaderboard export: JSON files a static site serves as they are.

Produced by the same code as `GET /api/leaderboard` (no constraints), so the two agree:
- `leaderboard.json`: every model's best configuration and every configuration's point;
- `models/<slug>.json` and `tasks/<slug>.json`: the same, filtered to one model or one task;
- `index.json`: schema version, generation time, and the list of those files.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from psycopg import AsyncConnection

from llem_api.leaderboard import SCHEMA_VERSION, Constraints, Filters, build, fetch_configs


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
            "models": [{"model": m, "file": f} for m, f in model_files.items()],
            "tasks": [{"task": t, "file": f} for t, f in task_files.items()],
        },
    )
    return written
