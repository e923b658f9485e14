/**
 * What each quality flag means, in words. Typed by the generated QualityFlagCode enum: a flag the
 * API adds and this table does not explain fails the type check, so no flag is ever shown unexplained.
 */
import type { QualityFlagCode } from "./api/types";

export const FLAG_MEANINGS: Record<QualityFlagCode, { label: string; meaning: string }> = {
  no_energy_meter: {
    label: "no meter",
    meaning:
      "The runner had no energy meter (no NVML GPU, no readable RAPL counters), so energy was not measured. llem never estimates it.",
  },
  short_window: {
    label: "short window",
    meaning:
      "The measured window was shorter than 5 s; the energy counter updates about every 100 ms, so short windows are noisy.",
  },
  sample_gap: {
    label: "sample gap",
    meaning: "Samples are missing: at least one gap was longer than three sampling periods.",
  },
  counter_integral_mismatch: {
    label: "counter ≠ integral",
    meaning:
      "The GPU's energy counter and the integral of its sampled power disagree by more than 5% over the window.",
  },
  temperature_drift: {
    label: "temperature drift",
    meaning:
      "The GPU temperature moved more than the protocol allows (10 °C by default) during the window: the run was not thermally steady.",
  },
  throttled: {
    label: "throttled",
    meaning:
      "The GPU lowered its clocks during the window (power cap, thermal or hardware slowdown), as NVML's throttle reasons report.",
  },
  failed_requests: {
    label: "failed requests",
    meaning: "Some requests failed; the figures cover the requests that succeeded.",
  },
  no_steady_state: {
    label: "no steady state",
    meaning:
      "The load never held its configured concurrency for a window, so there are no steady-state figures.",
  },
  no_idle_baseline: {
    label: "no idle baseline",
    meaning: "No idle power was measured before the run, so active energy (total minus idle) is unknown.",
  },
};

export function flagMeaning(code: QualityFlagCode): { label: string; meaning: string } {
  return FLAG_MEANINGS[code];
}
