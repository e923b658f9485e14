/** Axis scales with readable ticks, for the charts drawn on canvas. */
import { significant } from "../format";

export interface Scale {
  px: (value: number) => number;
  ticks: number[];
  label: (value: number) => string;
  log: boolean;
}

export function niceStep(range: number, count: number): number {
  const raw = range / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const error = raw / power;
  return power * (error >= 7.5 ? 10 : error >= 3.5 ? 5 : error >= 1.5 ? 2 : 1);
}

export function linearTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const step = niceStep(max - min, count);
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  const decades = Math.log10(max) - Math.log10(min);
  const steps = decades > 4 ? [1] : decades > 1.5 ? [1, 3] : [1, 2, 5];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e += 1) {
    for (const m of steps) {
      const v = m * 10 ** e;
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) ticks.push(Number(v.toPrecision(12)));
    }
  }
  return ticks;
}

/** A scale over [min, max] (padded by 5%) onto [from, to] pixels. */
export function makeScale(values: readonly number[], from: number, to: number, log: boolean): Scale {
  const finite = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  let min = finite.length ? Math.min(...finite) : 0;
  let max = finite.length ? Math.max(...finite) : 1;
  if (log) {
    if (!finite.length) [min, max] = [1, 10];
    const pad = (Math.log10(max) - Math.log10(min) || 1) * 0.05;
    const lo = Math.log10(min) - pad;
    const hi = Math.log10(max) + pad;
    return {
      px: (v) => from + ((Math.log10(v) - lo) / (hi - lo)) * (to - from),
      ticks: logTicks(10 ** lo, 10 ** hi),
      label: significantShort,
      log,
    };
  }
  if (max === min) [min, max] = [min - 1, max + 1];
  const pad = (max - min) * 0.05;
  const lo = Math.max(0, min - pad) === 0 && min >= 0 ? 0 : min - pad;
  const hi = max + pad;
  return {
    px: (v) => from + ((v - lo) / (hi - lo)) * (to - from),
    ticks: linearTicks(lo, hi),
    label: significantShort,
    log,
  };
}

function significantShort(value: number): string {
  return value === 0 ? "0" : significant(value).replace(/\.?0+$/, (m) => (m.startsWith(".") ? "" : m));
}
