/**
 * The leaderboard's columns, defined once: the table shows them, the CSV/JSON downloads write them
 * (raw numbers, the unit in the column name), the compare panel lists them.
 */
import type { ConfigRow } from "../api/types";
import * as fmt from "../format";
import { at, type Constraints } from "./select";
import type { SortKey } from "./urlState";

export interface Column {
  key: string;
  label: string;
  /** The table's sort key, when the column sorts. */
  sort?: SortKey;
  /** Formatted with its unit, for people. */
  text: (row: ConfigRow, c: Constraints) => string;
  /** Not a column of the table (shown within another cell), still in downloads and comparisons. */
  inTable?: false;
  /** Raw values for downloads: [column name with unit, value]. */
  raw: (row: ConfigRow, c: Constraints) => [string, string | number | null][];
  numeric?: boolean;
}

export function setup(row: ConfigRow): string {
  const load = row.batch_size !== null ? `batch ${row.batch_size}` : row.concurrency !== null ? `concurrency ${row.concurrency}` : null;
  const cap = row.power_limit_w !== null ? `cap ${fmt.watts(row.power_limit_w)}` : null;
  return [row.backend ?? "backend not recorded", row.precision, load, cap].filter(Boolean).join(" · ");
}

export function gpus(row: ConfigRow): string {
  if (row.gpu === null) return "no GPU";
  return `${row.gpu_count ?? "?"} × ${row.gpu}`;
}

export const COLUMNS: Column[] = [
  {
    key: "model",
    label: "Model",
    sort: "model",
    text: (r) => r.model,
    raw: (r) => [
      ["model", r.model],
      ["task", r.task],
      ["config_id", r.config_id],
    ],
  },
  {
    key: "jpt",
    label: "Energy per output token",
    sort: "energy_per_output_token_j",
    numeric: true,
    text: (r) => fmt.joulesPerToken(r.energy_per_output_token_j),
    raw: (r) => [
      ["energy_per_output_token_j", r.energy_per_output_token_j],
      ["energy_per_output_token_j_ci95_low", r.energy_per_output_token_j_interval?.ci95_low ?? null],
      ["energy_per_output_token_j_ci95_high", r.energy_per_output_token_j_interval?.ci95_high ?? null],
    ],
  },
  {
    key: "jpr",
    label: "Energy per request",
    sort: "energy_per_request_j",
    numeric: true,
    text: (r) => fmt.joulesPerRequest(r.energy_per_request_j),
    raw: (r) => [["energy_per_request_j", r.energy_per_request_j]],
  },
  {
    key: "tps",
    label: "Throughput",
    sort: "output_tokens_per_s",
    numeric: true,
    text: (r) => fmt.tokensPerSecond(r.output_tokens_per_s),
    raw: (r) => [["output_tokens_per_s", r.output_tokens_per_s]],
  },
  {
    key: "ttft",
    label: "TTFT",
    sort: "ttft",
    numeric: true,
    text: (r, c) => fmt.millis(at(r.ttft_ms, c.ttftPercentile)),
    raw: (r, c) => [[`ttft_${c.ttftPercentile}_ms`, at(r.ttft_ms, c.ttftPercentile)]],
  },
  {
    key: "itl",
    label: "ITL",
    sort: "itl",
    numeric: true,
    text: (r, c) => fmt.millis(at(r.itl_ms, c.itlPercentile)),
    raw: (r, c) => [[`itl_${c.itlPercentile}_ms`, at(r.itl_ms, c.itlPercentile)]],
  },
  {
    key: "power",
    label: "Average power",
    sort: "avg_power_w",
    numeric: true,
    text: (r) => fmt.watts(r.avg_power_w),
    raw: (r) => [["avg_power_w", r.avg_power_w]],
  },
  {
    key: "energy",
    label: "Active / idle energy per run",
    sort: "energy_j",
    numeric: true,
    text: (r) => `${fmt.energy(r.active_energy_j)} active / ${fmt.energy(r.idle_energy_j)} idle`,
    raw: (r) => [
      ["energy_j", r.energy_j],
      ["active_energy_j", r.active_energy_j],
      ["idle_energy_j", r.idle_energy_j],
    ],
  },
  {
    key: "setup",
    label: "Setup",
    sort: "concurrency",
    text: setup,
    raw: (r) => [
      ["backend", r.backend],
      ["precision", r.precision],
      ["concurrency", r.concurrency],
      ["batch_size", r.batch_size],
      ["power_limit_w", r.power_limit_w],
      ["pool", r.pool],
    ],
  },
  {
    key: "gpus",
    label: "GPUs",
    inTable: false,
    text: gpus,
    raw: (r) => [
      ["gpu", r.gpu],
      ["gpu_count", r.gpu_count],
    ],
  },
  {
    key: "runs",
    label: "Runs",
    sort: "runs",
    numeric: true,
    text: (r) => String(r.runs),
    raw: (r) => [["runs", r.runs]],
  },
  {
    key: "flags",
    label: "Quality",
    text: (r) => (r.quality_flags.length ? r.quality_flags.join(", ") : "none"),
    raw: (r) => [["quality_flags", r.quality_flags.join(" ")]],
  },
];
