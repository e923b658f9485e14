import { describe, expect, it } from "vitest";
import type { SeriesPoint } from "../api/types";
import { align, bucketFor, histogram } from "./series";

function point(t: number, gpu: number | null, power: number | null): SeriesPoint {
  return {
    bucket: new Date(Date.UTC(2026, 0, 1, 0, 0, t)).toISOString(),
    gpu_index: gpu,
    power_w: power,
    power_max_w: power,
    energy_counter_j: null,
    temperature_c: null,
    sm_clock_mhz: null,
    memory_clock_mhz: null,
    gpu_utilization_pct: null,
    samples: 2,
  };
}

describe("time series", () => {
  it("aligns every GPU on one time axis, gaps as null", () => {
    const a = align([point(0, 0, 100), point(0, 1, 200), point(1, 1, 210), point(2, 0, 110)]);
    expect(a.x).toHaveLength(3);
    expect(a.gpus).toEqual([0, 1]);
    expect(a.values("power_w")).toEqual([
      [100, null, 110],
      [200, 210, null],
    ]);
    expect(a.samples).toBe(8);
  });

  it("chooses a bucket of about 2,000 points, never below the sampling period", () => {
    expect(bucketFor(1800, 100)).toBe(1); // 8 GPUs x 10 Hz x 30 min: 1,800 points per GPU
    expect(bucketFor(10, 100)).toBe(0.1);
    expect(bucketFor(10, 500)).toBe(0.5);
    expect(bucketFor(86400, 100)).toBe(60);
    expect(bucketFor(null, null)).toBe(0.1);
  });

  it("bins values for a histogram and skips unmeasured ones", () => {
    const h = histogram([1, 2, 3, 4, null, 5, 6, 7, 8, 9]);
    expect(h.n).toBe(9);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(9);
    expect(h.edges[0]).toBe(1);
    expect(h.edges.at(-1)).toBe(9);
    expect(histogram([null, null]).n).toBe(0);
    expect(histogram([4, 4]).counts).toEqual([2]);
  });
});
