"""The leaderboard: one code path for the API (`GET /api/leaderboard`) and the static export.

Unit: a configuration (the scheduler's `config_id`: model, backend settings, workload, protocol,
pool), aggregated over its completed, non-superseded runs with a measured energy. Per model, the
lowest mean J/output-token configuration meeting the latency and power constraints wins; ties go to
the higher tokens/s, then to the smaller config id. Every configuration is also a point for a
time-energy Pareto chart, flagged when no other configuration of its model is at least as good in
both latency and energy and better in one.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from typing import Any, Literal

import msgspec
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from llem_schemas.measurement import QualityFlagCode
from llem_schemas.stats import interval_stats

Percentile = Literal["p50", "p90", "p95", "p99"]


class Filters(msgspec.Struct, kw_only=True, frozen=True):
    task: str | None = None  # the prompt set
    model: str | None = None
    gpu: str | None = None
    backend: str | None = None
    precision: str | None = None
    pool: str | None = None


class Constraints(msgspec.Struct, kw_only=True, frozen=True):
    max_itl_ms: float | None = None
    itl_percentile: Percentile = "p99"
    max_ttft_ms: float | None = None
    ttft_percentile: Percentile = "p99"
    max_power_w: float | None = None


class Interval(msgspec.Struct, kw_only=True):
    n: int
    mean: float | None
    ci95_low: float | None
    ci95_high: float | None


class Percentiles(msgspec.Struct, kw_only=True):
    """A latency at each percentile the leaderboard offers, in ms; null where it was not measured."""

    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None

    def at(self, percentile: Percentile) -> float | None:
        value: float | None = getattr(self, percentile)
        return value


class ConfigRow(msgspec.Struct, kw_only=True):
    config_id: str
    model: str
    task: str | None
    gpu: str | None
    gpu_count: int | None
    backend: str | None
    precision: str | None
    pool: str | None
    concurrency: int | None
    batch_size: int | None
    power_limit_w: float | None  # per GPU, set by the runs; null: left as the runner found it
    runs: int
    energy_per_output_token_j: float
    energy_per_output_token_j_interval: Interval | None
    energy_per_request_j: float | None
    output_tokens_per_s: float | None
    avg_power_w: float | None
    energy_j: float | None
    active_energy_j: float | None
    idle_energy_j: float | None
    ttft_ms: Percentiles
    itl_ms: Percentiles
    quality_flags: list[QualityFlagCode]
    run_ids: list[str]


class ParetoPoint(msgspec.Struct, kw_only=True):
    config_id: str
    model: str
    energy_per_output_token_j: float
    latency_ms: float | None
    output_tokens_per_s: float | None
    meets_constraints: bool
    pareto_optimal: bool


class Leaderboard(msgspec.Struct, kw_only=True):
    schema_version: int
    filters: Filters
    constraints: Constraints
    best: list[ConfigRow]
    points: list[ParetoPoint]


class Unmeasured(msgspec.Struct, kw_only=True):
    """Completed runs left out of the leaderboard because their energy was not measured."""

    runs: int
    meters: list[str] = msgspec.field(default_factory=list)


class Configurations(msgspec.Struct, kw_only=True):
    """Every configuration matching the filters, with no constraint applied: what a client needs to
    choose the best per model under any constraint itself (the web app does, also as a static site)."""

    schema_version: int
    filters: Filters
    configurations: list[ConfigRow]
    unmeasured: Unmeasured


SCHEMA_VERSION = 1
_PCTS = ("p50", "p90", "p95", "p99")

# One row per configuration: the database averages (avg skips nulls, as an unmeasured value should
# be skipped) and collects the J/token of every run for the interval; the text fields are the same
# for every run of a configuration (min() only picks one deterministically). Per-run figures are
# migration 0007's generated columns: no jsonb is read but the small quality_flags array.
_COUNTED = "status = 'completed' AND NOT superseded"
_FILTERS = """(%(task)s::text IS NULL OR prompt_set = %(task)s)
      AND (%(model)s::text IS NULL OR COALESCE(model_name, model) = %(model)s)
      AND (%(gpu)s::text IS NULL OR gpu_name = %(gpu)s)
      AND (%(backend)s::text IS NULL OR backend = %(backend)s)
      AND (%(pool)s::text IS NULL OR pool = %(pool)s)
      AND (%(precision)s::text IS NULL OR precision = %(precision)s)"""
_QUERY = f"""
WITH r AS (
    SELECT run_id::text AS run_id, COALESCE(config_id, run_id::text) AS config_id,
           COALESCE(model_name, model) AS model, prompt_set AS task, gpu_name AS gpu, gpu_count, backend, pool,
           precision, concurrency, batch_size, power_limit_w, energy_per_output_token_j, output_tokens_per_s, energy_j,
           energy_per_request_j, avg_power_w, active_energy_j, ttft_p50_ms, ttft_p90_ms, ttft_p95_ms,
           ttft_p99_ms, itl_p50_ms, itl_p90_ms, itl_p95_ms, itl_p99_ms,
           (SELECT string_agg(f->>'code', ',') FROM jsonb_array_elements(quality_flags) f) AS flags
    FROM runs
    WHERE {_COUNTED} AND energy_per_output_token_j IS NOT NULL AND {_FILTERS}
)
SELECT config_id, min(model) AS model, min(task) AS task, min(gpu) AS gpu, min(gpu_count) AS gpu_count,
       min(backend) AS backend, min(pool) AS pool, min(precision) AS precision,
       min(concurrency) AS concurrency, min(batch_size) AS batch_size, min(power_limit_w) AS power_limit_w,
       array_agg(energy_per_output_token_j) AS energies, avg(energy_per_request_j) AS energy_per_request_j,
       avg(output_tokens_per_s) AS output_tokens_per_s, avg(avg_power_w) AS avg_power_w,
       avg(energy_j) AS energy_j, avg(active_energy_j) AS active_energy_j,
       avg(ttft_p50_ms) AS ttft_p50_ms, avg(ttft_p90_ms) AS ttft_p90_ms, avg(ttft_p95_ms) AS ttft_p95_ms,
       avg(ttft_p99_ms) AS ttft_p99_ms, avg(itl_p50_ms) AS itl_p50_ms, avg(itl_p90_ms) AS itl_p90_ms,
       avg(itl_p95_ms) AS itl_p95_ms, avg(itl_p99_ms) AS itl_p99_ms,
       string_agg(flags, ',') AS flags, array_agg(run_id) AS run_ids
FROM r GROUP BY config_id
"""


async def fetch_configs(conn: AsyncConnection, filters: Filters) -> list[dict[str, Any]]:
    """Every configuration matching `filters`, aggregated over its runs (one row each)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_QUERY, msgspec.structs.asdict(filters), binary=True)  # binary: 2x faster rows
        return list(await cur.fetchall())


_UNMEASURED = f"""
SELECT COALESCE(meter, 'unknown') AS meter, count(*) AS runs FROM runs
WHERE {_COUNTED} AND energy_per_output_token_j IS NULL AND {_FILTERS}
GROUP BY 1 ORDER BY 1
"""


async def fetch_unmeasured(conn: AsyncConnection, filters: Filters) -> Unmeasured:
    """How many completed runs matching `filters` have no measured energy, and by which meters."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_UNMEASURED, msgspec.structs.asdict(filters))
        rows = await cur.fetchall()
    return Unmeasured(runs=sum(int(r["runs"]) for r in rows), meters=[r["meter"] for r in rows])


def _percentiles(row: dict[str, Any], metric: str) -> Percentiles:
    return Percentiles(**{p: row[f"{metric}_{p}_ms"] for p in _PCTS})


def _config(row: dict[str, Any]) -> ConfigRow:
    energies = [float(e) for e in row["energies"]]
    ci = interval_stats(energies)
    energy_j, active_j = row["energy_j"], row["active_energy_j"]
    return ConfigRow(
        config_id=row["config_id"],
        model=row["model"],
        task=row["task"],
        gpu=row["gpu"],
        gpu_count=row["gpu_count"],
        backend=row["backend"],
        precision=row["precision"],
        pool=row["pool"],
        concurrency=row["concurrency"],
        batch_size=row["batch_size"],
        power_limit_w=row["power_limit_w"],
        runs=len(energies),
        energy_per_output_token_j=statistics.fmean(energies),
        energy_per_output_token_j_interval=Interval(
            n=ci.n, mean=ci.mean, ci95_low=ci.ci95_low, ci95_high=ci.ci95_high
        )
        if ci
        else None,
        energy_per_request_j=row["energy_per_request_j"],
        output_tokens_per_s=row["output_tokens_per_s"],
        avg_power_w=row["avg_power_w"],
        energy_j=energy_j,
        active_energy_j=active_j,
        idle_energy_j=energy_j - active_j if energy_j is not None and active_j is not None else None,
        ttft_ms=_percentiles(row, "ttft"),
        itl_ms=_percentiles(row, "itl"),
        quality_flags=sorted({QualityFlagCode(c) for c in row["flags"].split(",")}) if row["flags"] else [],
        run_ids=sorted(row["run_ids"]),
    )


def _meets(row: ConfigRow, c: Constraints) -> bool:
    checks = (
        (c.max_itl_ms, row.itl_ms.at(c.itl_percentile)),
        (c.max_ttft_ms, row.ttft_ms.at(c.ttft_percentile)),
        (c.max_power_w, row.avg_power_w),
    )
    # a limit on a value that was not measured cannot be shown to hold: the configuration fails it
    return all(limit is None or (value is not None and value <= limit) for limit, value in checks)


def _rank_key(row: ConfigRow) -> tuple[float, float, str]:
    return (row.energy_per_output_token_j, -(row.output_tokens_per_s or 0.0), row.config_id)


def _mark_pareto(points: list[ParetoPoint]) -> None:
    """Set `pareto_optimal`: no other point is no worse in latency and energy and better in one.

    A sweep in latency order: a point is dominated when a point of strictly lower latency has no
    more energy, or one of equal latency has strictly less. Unknown latency is never optimal and
    never dominates. O(n log n), where comparing every pair was O(n^2).
    """
    known = sorted((p for p in points if p.latency_ms is not None), key=lambda p: p.latency_ms or 0.0)
    best_before = math.inf  # least energy among points of strictly lower latency
    i = 0
    while i < len(known):
        j = i
        while j < len(known) and known[j].latency_ms == known[i].latency_ms:
            j += 1
        group = known[i:j]
        group_min = min(p.energy_per_output_token_j for p in group)
        for p in group:
            e = p.energy_per_output_token_j
            p.pareto_optimal = not (best_before <= e or group_min < e)
        best_before = min(best_before, group_min)
        i = j


def configurations(rows: list[dict[str, Any]]) -> list[ConfigRow]:
    """`fetch_configs` rows as configurations, in config id order."""
    return [_config(row) for row in sorted(rows, key=lambda r: str(r["config_id"]))]


def build(configs: list[dict[str, Any]], filters: Filters, constraints: Constraints) -> Leaderboard:
    """The leaderboard from `fetch_configs` rows (any subset of them: the export filters in Python)."""
    by_model: dict[str, list[ConfigRow]] = defaultdict(list)
    for config in configurations(configs):
        by_model[config.model].append(config)
    best = []
    points: list[ParetoPoint] = []
    for model in sorted(by_model):
        rows = by_model[model]
        eligible = sorted((r for r in rows if _meets(r, constraints)), key=_rank_key)
        if eligible:
            best.append(eligible[0])
        model_points = [
            ParetoPoint(
                config_id=r.config_id,
                model=model,
                energy_per_output_token_j=r.energy_per_output_token_j,
                latency_ms=r.itl_ms.at(constraints.itl_percentile),
                output_tokens_per_s=r.output_tokens_per_s,
                meets_constraints=_meets(r, constraints),
                pareto_optimal=False,
            )
            for r in rows
        ]
        _mark_pareto(model_points)
        points += model_points
    return Leaderboard(
        schema_version=SCHEMA_VERSION, filters=filters, constraints=constraints, best=best, points=points
    )


async def leaderboard(conn: AsyncConnection, filters: Filters, constraints: Constraints) -> Leaderboard:
    return build(await fetch_configs(conn, filters), filters, constraints)


async def all_configurations(
    conn: AsyncConnection, filters: Filters, rows: list[dict[str, Any]] | None = None
) -> Configurations:
    """`rows`: the `fetch_configs` rows for `filters`, when the caller already has them (the export)."""
    return Configurations(
        schema_version=SCHEMA_VERSION,
        filters=filters,
        configurations=configurations(rows if rows is not None else await fetch_configs(conn, filters)),
        unmeasured=await fetch_unmeasured(conn, filters),
    )
