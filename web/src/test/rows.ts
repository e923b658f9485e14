/** Configuration rows for tests, shaped as GET /api/configurations returns them. */
import type { ConfigRow, Percentiles } from "../api/types";

const none: Percentiles = { p50: null, p90: null, p95: null, p99: null };

export function row(over: Partial<ConfigRow> & { config_id: string; model: string }): ConfigRow {
  return {
    task: "chat",
    gpu: "NVIDIA H100",
    gpu_count: 1,
    backend: "vllm",
    precision: "bfloat16",
    pool: "h100",
    concurrency: 1,
    batch_size: null,
    power_limit_w: null,
    runs: 1,
    energy_per_output_token_j: 1,
    energy_per_output_token_j_interval: { n: 1, mean: 1, ci95_low: null, ci95_high: null },
    energy_per_request_j: null,
    output_tokens_per_s: 100,
    avg_power_w: 300,
    energy_j: 100,
    active_energy_j: 80,
    idle_energy_j: 20,
    ttft_ms: { ...none, p99: 20 },
    itl_ms: { ...none, p50: 10, p99: 20 },
    quality_flags: [],
    run_ids: [`run-${over.config_id}`],
    ...over,
  };
}

export function itl(p50: number | null, p99: number | null): Percentiles {
  return { p50, p90: null, p95: null, p99 };
}
