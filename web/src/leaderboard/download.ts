/** CSV and JSON downloads of what the leaderboard shows (its rows, in its order, its columns). */
import type { ConfigRow } from "../api/types";
import { COLUMNS } from "./columns";
import type { Constraints } from "./select";

export function records(rows: readonly ConfigRow[], c: Constraints): Record<string, string | number | null>[] {
  return rows.map((row) => Object.fromEntries(COLUMNS.flatMap((col) => col.raw(row, c))));
}

function cell(value: string | number | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(rows: readonly ConfigRow[], c: Constraints): string {
  const docs = records(rows, c);
  const header = COLUMNS.flatMap((col) => col.raw(EMPTY, c).map(([name]) => name));
  const lines = [header.join(","), ...docs.map((doc) => header.map((k) => cell(doc[k] ?? null)).join(","))];
  return `${lines.join("\n")}\n`;
}

const NONE = { p50: null, p90: null, p95: null, p99: null };
/** A row of nothing: the column names of the header, whether or not there are rows. */
const EMPTY: ConfigRow = {
  config_id: "", model: "", task: null, gpu: null, gpu_count: null, backend: null, precision: null, pool: null,
  concurrency: null, batch_size: null, power_limit_w: null, runs: 0, energy_per_output_token_j: 0, energy_per_output_token_j_interval: null,
  energy_per_request_j: null, output_tokens_per_s: null, avg_power_w: null, energy_j: null, active_energy_j: null,
  idle_energy_j: null, ttft_ms: NONE, itl_ms: NONE, quality_flags: [], run_ids: [],
};

/** Hand a file to the browser's downloads: text with its type, or a Blob (the chart's PNG). */
export function save(filename: string, body: string | Blob, type = "application/octet-stream"): void {
  const url = URL.createObjectURL(typeof body === "string" ? new Blob([body], { type }) : body);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}
