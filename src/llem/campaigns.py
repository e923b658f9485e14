"""`llem campaign submit`: the operator's view of a campaign file (a dry-run table, or submission)."""

from __future__ import annotations

from llem_control.expand import Expansion
from llem_schemas.jobs import JobSpec

_COLUMNS = ("#", "pool", "model", "backend", "settings", "requests", "conc", "max_tok", "rep", "job_id")


def _settings(job: JobSpec) -> str:
    b = job.backend.model_dump(
        exclude={"kind", "model_path", "model", "base_url", "api_key_env", "seed"}, exclude_defaults=True
    )
    return " ".join(f"{k}={v}" for k, v in b.items()) or "-"


def table(expansion: Expansion) -> str:
    rows = [_COLUMNS] + [
        (
            str(i),
            j.pool,
            j.model_name or "-",
            j.backend.kind,
            _settings(j),
            str(j.workload.num_requests),
            str(j.workload.concurrency),
            str(j.workload.max_output_tokens),
            str(j.repetition),
            str(j.job_id)[:8],
        )
        for i, j in enumerate(expansion.jobs, start=1)
    ]
    widths = [max(len(r[c]) for r in rows) for c in range(len(_COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    out = [
        f"campaign {expansion.campaign_id}: {len(expansion.jobs)} job(s), {len(expansion.dropped)} dropped",
        *lines,
    ]
    if expansion.dropped:
        out.append("\ndropped combinations:")
        for d in expansion.dropped:
            backend = d.config["backend"]
            out.append(f"  {d.config['pool']} / {d.config['model_name']} / {backend['kind']}: {d.reason}")
    return "\n".join(out)
