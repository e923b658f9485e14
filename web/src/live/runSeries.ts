/**
 * A running run's live series, from its metric batches: power per GPU, energy so far (from the
 * GPUs' energy counters: the sum over GPUs of each counter's rise since its first reading) and
 * output tokens/s (from the cumulative token counter). Kept in rings, never in React state. A value
 * the meter did not give stays a gap: nothing is estimated here.
 */
import type { MetricBatchEvent } from "./events";
import { Ring } from "./ring";

export const WINDOW_ROWS = 3000; // 5 minutes at 10 Hz

export class RunSeries {
  readonly power = new Ring(WINDOW_ROWS);
  readonly energy = new Ring(WINDOW_ROWS, 1);
  readonly tokens = new Ring(WINDOW_ROWS, 1);
  meter: string | null = null;
  samplingPeriodMs: number | null = null;
  gpus = new Set<number>();
  powerSeen = false;
  energySeen = false;
  samples = 0;
  lastPowerW = new Map<number, number>();
  private firstCounter = new Map<number, number>();
  private energyRise = new Map<number, number>();
  private seqs = new Set<number>();
  private tokensAt: { t: number; total: number } | null = null;

  /** Apply one batch (a batch seen before is ignored); true when it added samples. */
  apply(batch: MetricBatchEvent): boolean {
    if (this.seqs.has(batch.seq)) return false;
    this.seqs.add(batch.seq);
    this.meter = batch.meter;
    this.samplingPeriodMs = batch.sampling_period_ms ?? this.samplingPeriodMs;
    const samples = [...batch.samples].sort((a, b) => a.sampled_at.localeCompare(b.sampled_at));
    for (const s of samples) {
      const t = Date.parse(s.sampled_at) / 1000;
      if (!Number.isFinite(t)) continue;
      this.samples++;
      const gpu = s.gpu_index;
      if (gpu !== null && gpu !== undefined) {
        this.gpus.add(gpu);
        const power = s.power_w ?? null;
        this.power.put(t, gpu, power);
        if (power !== null) {
          this.powerSeen = true;
          this.lastPowerW.set(gpu, power);
        }
        if (s.energy_counter_j !== null && s.energy_counter_j !== undefined) {
          const first = this.firstCounter.get(gpu) ?? s.energy_counter_j;
          this.firstCounter.set(gpu, first);
          this.energyRise.set(gpu, s.energy_counter_j - first);
          let sum = 0;
          for (const rise of this.energyRise.values()) sum += rise;
          this.energy.put(t, 0, sum);
          this.energySeen = true;
        }
      }
      const total = s.output_tokens_total;
      if (total !== null && total !== undefined && (this.tokensAt === null || t > this.tokensAt.t)) {
        if (this.tokensAt !== null) this.tokens.put(t, 0, Math.max(0, (total - this.tokensAt.total) / (t - this.tokensAt.t)));
        this.tokensAt = { t, total };
      }
    }
    return samples.length > 0;
  }

  /** The sum of the latest power reading of each GPU, or null when no GPU gave one. */
  totalPowerW(): number | null {
    if (!this.lastPowerW.size) return null;
    let sum = 0;
    for (const w of this.lastPowerW.values()) sum += w;
    return sum;
  }

  energySoFarJ(): number | null {
    if (!this.energySeen) return null;
    let sum = 0;
    for (const rise of this.energyRise.values()) sum += rise;
    return sum;
  }

  tokensPerS(): number | null {
    const [, col] = this.tokens.aligned();
    const last = col?.[col.length - 1];
    return last ?? null;
  }
}
