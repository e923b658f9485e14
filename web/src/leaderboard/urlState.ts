/**
 * The leaderboard's whole view in its URL: filters, constraints, sort, compared models, chart
 * scale. Parameter names are the API's (`max_itl_ms`, `itl_percentile`, ...), so a view's link and
 * the matching `GET /api/leaderboard` read the same. Defaults are left out; what cannot be read is
 * ignored (and reported), never guessed.
 */
import { PERCENTILES, type Percentile } from "../api/types";
import { FILTER_KEYS, type Constraints, type Filters } from "./select";

export const SORT_KEYS = [
  "model",
  "energy_per_output_token_j",
  "energy_per_request_j",
  "output_tokens_per_s",
  "ttft",
  "itl",
  "avg_power_w",
  "energy_j",
  "concurrency",
  "runs",
] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface BoardView {
  filters: Filters;
  constraints: Constraints;
  sort: SortKey;
  descending: boolean;
  compare: string[];
  logScale: boolean;
  /** Every model's row, not only the first TABLE_ROWS. */
  allRows: boolean;
}

export const MAX_COMPARE = 4;
/** Rows shown until "Show all": a long table costs its layout on every change (profiled). */
export const TABLE_ROWS = 50;

export const DEFAULT_VIEW: BoardView = {
  filters: { task: null, gpu: null, backend: null, precision: null, pool: null },
  constraints: { maxItlMs: null, itlPercentile: "p99", maxTtftMs: null, ttftPercentile: "p99", maxPowerW: null },
  sort: "energy_per_output_token_j",
  descending: false,
  compare: [],
  logScale: false,
  allRows: false,
};

const LIMITS = [
  ["maxItlMs", "max_itl_ms"],
  ["maxTtftMs", "max_ttft_ms"],
  ["maxPowerW", "max_power_w"],
] as const;
const PCTS = [
  ["itlPercentile", "itl_percentile"],
  ["ttftPercentile", "ttft_percentile"],
] as const;

function isPercentile(value: string | null): value is Percentile {
  return value !== null && (PERCENTILES as readonly string[]).includes(value);
}

export interface ParsedView {
  view: BoardView;
  /** Parameters present but unreadable, with why: shown to the person who opened the link. */
  ignored: string[];
}

export function parseView(params: URLSearchParams): ParsedView {
  const ignored: string[] = [];
  const filters = { ...DEFAULT_VIEW.filters };
  for (const key of FILTER_KEYS) filters[key] = params.get(key) || null;
  const constraints = { ...DEFAULT_VIEW.constraints };
  for (const [field, name] of LIMITS) {
    const raw = params.get(name);
    if (raw === null || raw === "") continue;
    const value = Number(raw);
    if (Number.isFinite(value) && value > 0) constraints[field] = value;
    else ignored.push(`${name}=${raw} (a positive number)`);
  }
  for (const [field, name] of PCTS) {
    const raw = params.get(name);
    if (raw === null) continue;
    if (isPercentile(raw)) constraints[field] = raw;
    else ignored.push(`${name}=${raw} (one of ${PERCENTILES.join(", ")})`);
  }
  let { sort, descending } = DEFAULT_VIEW;
  const rawSort = params.get("sort");
  if (rawSort !== null) {
    const key = rawSort.replace(/^-/, "");
    if ((SORT_KEYS as readonly string[]).includes(key)) {
      sort = key as SortKey;
      descending = rawSort.startsWith("-");
    } else ignored.push(`sort=${rawSort}`);
  }
  const compare = [...new Set(params.getAll("compare").filter(Boolean))];
  if (compare.length > MAX_COMPARE) ignored.push(`compare beyond ${MAX_COMPARE} models`);
  const scale = params.get("scale");
  if (scale !== null && scale !== "log" && scale !== "linear") ignored.push(`scale=${scale}`);
  const rows = params.get("rows");
  if (rows !== null && rows !== "all") ignored.push(`rows=${rows} (only "all")`);
  return {
    view: {
      filters,
      constraints,
      sort,
      descending,
      compare: compare.slice(0, MAX_COMPARE),
      logScale: scale === "log",
      allRows: rows === "all",
    },
    ignored,
  };
}

export function serializeView(view: BoardView): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = view.filters[key];
    if (value !== null) params.set(key, value);
  }
  for (const [field, name] of LIMITS) {
    const value = view.constraints[field];
    if (value !== null) params.set(name, String(value));
  }
  for (const [field, name] of PCTS) {
    if (view.constraints[field] !== DEFAULT_VIEW.constraints[field]) params.set(name, view.constraints[field]);
  }
  if (view.sort !== DEFAULT_VIEW.sort || view.descending) params.set("sort", `${view.descending ? "-" : ""}${view.sort}`);
  for (const model of view.compare) params.append("compare", model);
  if (view.logScale) params.set("scale", "log");
  if (view.allRows) params.set("rows", "all");
  return params;
}

/** The API query that asks the server for the same leaderboard (for links and for the tests). */
export function apiQuery(view: BoardView): URLSearchParams {
  const params = serializeView({ ...DEFAULT_VIEW, filters: view.filters, constraints: view.constraints });
  return params;
}
