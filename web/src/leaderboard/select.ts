/**
 * The leaderboard's choice, computed in the browser from every configuration, so that a
 * constraint change needs no round trip and the static site works without a server. The same rules
 * as services/api/src/llem_api/leaderboard.py (the browser tests check that both agree):
 * - a configuration meets the constraints when every limit holds on a measured value (a limit on a
 *   value that was not measured is not met);
 * - per model, the lowest mean J/output-token configuration meeting them wins; ties go to the higher
 *   tokens/s, then to the smaller config id;
 * - a point is Pareto-optimal when no configuration of its model is no worse in latency (the chosen
 *   ITL percentile) and energy, and better in one; unknown latency is never optimal.
 */
import type { ConfigRow, Percentile, Percentiles } from "../api/types";

export interface Filters {
  task: string | null;
  gpu: string | null;
  backend: string | null;
  precision: string | null;
  pool: string | null;
}

export interface Constraints {
  maxItlMs: number | null;
  itlPercentile: Percentile;
  maxTtftMs: number | null;
  ttftPercentile: Percentile;
  maxPowerW: number | null;
}

export interface Point {
  row: ConfigRow;
  latencyMs: number | null;
  meets: boolean;
  pareto: boolean;
}

export interface Board {
  /** Best configuration per model, in model order. */
  best: ConfigRow[];
  /** Every configuration matching the filters. */
  points: Point[];
  /** Models with configurations, none of which meets the constraints. */
  unmet: string[];
}

export const FILTER_KEYS = ["task", "gpu", "backend", "precision", "pool"] as const satisfies readonly (keyof Filters &
  keyof ConfigRow)[];

export function at(p: Percentiles, percentile: Percentile): number | null {
  return p[percentile];
}

export function matchesFilters(row: ConfigRow, filters: Filters): boolean {
  return FILTER_KEYS.every((key) => filters[key] === null || row[key] === filters[key]);
}

export function meets(row: ConfigRow, c: Constraints): boolean {
  const checks: [number | null, number | null][] = [
    [c.maxItlMs, at(row.itl_ms, c.itlPercentile)],
    [c.maxTtftMs, at(row.ttft_ms, c.ttftPercentile)],
    [c.maxPowerW, row.avg_power_w],
  ];
  return checks.every(([limit, value]) => limit === null || (value !== null && value <= limit));
}

/** Python's ordering of str: by code point (UUIDs and names alike). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function rank(a: ConfigRow, b: ConfigRow): number {
  return (
    a.energy_per_output_token_j - b.energy_per_output_token_j ||
    (b.output_tokens_per_s ?? 0) - (a.output_tokens_per_s ?? 0) ||
    compareText(a.config_id, b.config_id)
  );
}

/** Mark `pareto` in place: a sweep in latency order, O(n log n). */
export function markPareto(points: Point[]): void {
  const known = points.filter((p) => p.latencyMs !== null).sort((a, b) => (a.latencyMs ?? 0) - (b.latencyMs ?? 0));
  for (const p of points) p.pareto = false;
  let bestBefore = Infinity; // least energy among points of strictly lower latency
  for (let i = 0; i < known.length; ) {
    let j = i;
    while (j < known.length && known[j]?.latencyMs === known[i]?.latencyMs) j += 1;
    const group = known.slice(i, j);
    const groupMin = Math.min(...group.map((p) => p.row.energy_per_output_token_j));
    for (const p of group) {
      const e = p.row.energy_per_output_token_j;
      p.pareto = !(bestBefore <= e || groupMin < e);
    }
    bestBefore = Math.min(bestBefore, groupMin);
    i = j;
  }
}

export function buildBoard(rows: readonly ConfigRow[], filters: Filters, constraints: Constraints): Board {
  const byModel = new Map<string, ConfigRow[]>();
  for (const row of rows) {
    if (!matchesFilters(row, filters)) continue;
    const list = byModel.get(row.model);
    if (list) list.push(row);
    else byModel.set(row.model, [row]);
  }
  const best: ConfigRow[] = [];
  const points: Point[] = [];
  const unmet: string[] = [];
  for (const model of [...byModel.keys()].sort(compareText)) {
    const modelRows = byModel.get(model) ?? [];
    const modelPoints = modelRows.map((row) => ({
      row,
      latencyMs: at(row.itl_ms, constraints.itlPercentile),
      meets: meets(row, constraints),
      pareto: false,
    }));
    markPareto(modelPoints);
    points.push(...modelPoints);
    let winner: ConfigRow | null = null;
    for (const p of modelPoints) if (p.meets && (winner === null || rank(p.row, winner) < 0)) winner = p.row;
    if (winner) best.push(winner);
    else unmet.push(model);
  }
  return { best, points, unmet };
}

/** The distinct values of a filterable field, for its menu. */
export function choices(rows: readonly ConfigRow[], key: (typeof FILTER_KEYS)[number]): string[] {
  const values = new Set<string>();
  for (const row of rows) {
    const value = row[key];
    if (value !== null) values.add(value);
  }
  return [...values].sort(compareText);
}
