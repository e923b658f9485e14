import { describe, expect, it } from "vitest";
import type { MetricBatchEvent, MetricSample } from "./events";
import { RunSeries } from "./runSeries";

function batch(seq: number, samples: MetricSample[]): MetricBatchEvent {
  return { schema_version: 2, type: "metric.batch", event_id: `b${seq}`, occurred_at: "", run_id: "r", job_id: "j", campaign_id: "c", runner_id: "x", attempt: 1, seq, meter: "nvml", sampling_period_ms: 100, samples };
}
const at = (s: number) => new Date(Date.UTC(2026, 11, 3, 12, 0, 0) + s * 1000).toISOString();

describe("RunSeries", () => {
  it("keeps power per GPU, energy from the counters and tokens/s from the token counter", () => {
    const series = new RunSeries();
    series.apply(batch(0, [
      { sampled_at: at(0), gpu_index: 0, power_w: 100, energy_counter_j: 1000, output_tokens_total: 0 },
      { sampled_at: at(0), gpu_index: 1, power_w: 200, energy_counter_j: 5000, output_tokens_total: 0 },
      { sampled_at: at(1), gpu_index: 0, power_w: 110, energy_counter_j: 1100, output_tokens_total: 50 },
      { sampled_at: at(1), gpu_index: 1, power_w: 210, energy_counter_j: 5200, output_tokens_total: 50 },
    ]));
    const [x, g0, g1] = series.power.aligned();
    expect(x).toHaveLength(2);
    expect(g0).toEqual([100, 110]);
    expect(g1).toEqual([200, 210]);
    expect(series.totalPowerW()).toBe(320);
    expect(series.energySoFarJ()).toBe(300);
    expect(series.tokensPerS()).toBe(50);
  });

  it("ignores a batch seen before and leaves unmeasured power as gaps, never a number", () => {
    const series = new RunSeries();
    const b = batch(0, [{ sampled_at: at(0), gpu_index: null, power_w: null, output_tokens_total: 4 }]);
    expect(series.apply(b)).toBe(true);
    expect(series.apply(b)).toBe(false);
    expect(series.samples).toBe(1);
    expect(series.powerSeen).toBe(false);
    expect(series.totalPowerW()).toBeNull();
    expect(series.energySoFarJ()).toBeNull();
  });
});
