/** A run's time series as the charts draw them: one x axis, one aligned array per GPU. */
import type { SeriesPoint } from "../api/types";

export type Metric = "power_w" | "power_max_w" | "temperature_c" | "sm_clock_mhz" | "gpu_utilization_pct";

export interface Aligned {
  /** Bucket start, unix seconds. */
  x: number[];
  gpus: (number | null)[];
  /** Per GPU (same order as `gpus`), per bucket; null where the bucket has no sample of it. */
  values: (metric: Metric) => (number | null)[][];
  samples: number;
}

export function align(points: readonly SeriesPoint[]): Aligned {
  const times = [...new Set(points.map((p) => Date.parse(p.bucket) / 1000))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const gpus = [...new Set(points.map((p) => p.gpu_index))].sort((a, b) => (a ?? -1) - (b ?? -1));
  const gpuIndex = new Map(gpus.map((g, i) => [g, i]));
  const cache = new Map<Metric, (number | null)[][]>();
  return {
    x: times,
    gpus,
    samples: points.reduce((n, p) => n + p.samples, 0),
    values(metric) {
      const known = cache.get(metric);
      if (known) return known;
      const out = gpus.map(() => new Array<number | null>(times.length).fill(null));
      for (const p of points) {
        const row = out[gpuIndex.get(p.gpu_index) ?? 0];
        const col = index.get(Date.parse(p.bucket) / 1000);
        if (row && col !== undefined) row[col] = p[metric];
      }
      cache.set(metric, out);
      return out;
    },
  };
}

const NICE = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

/** The time bucket for a run: about `target` points per GPU, never finer than the sampling period. */
export function bucketFor(durationS: number | null, samplingPeriodMs: number | null, target = 2000): number {
  const period = (samplingPeriodMs ?? 100) / 1000;
  const wanted = Math.max(period, (durationS ?? 0) / target);
  return NICE.find((n) => n >= wanted - 1e-9) ?? Math.ceil(wanted / 3600) * 3600;
}

export interface Band {
  label: string;
  start: number;
  end: number;
  kind: "steady" | "repetition";
}

/** Histogram bins over the finite values (at most `maxBins`, about the square root of n). */
export function histogram(values: readonly (number | null)[], maxBins = 30): { edges: number[]; counts: number[]; n: number } {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length === 0) return { edges: [], counts: [], n: 0 };
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  const bins = max === min ? 1 : Math.max(1, Math.min(maxBins, Math.ceil(Math.sqrt(xs.length))));
  const width = (max - min) / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const x of xs) {
    const i = Math.min(bins - 1, Math.floor((x - min) / width));
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return { edges: Array.from({ length: bins + 1 }, (_, i) => min + i * width), counts, n: xs.length };
}
