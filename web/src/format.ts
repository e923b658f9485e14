/**
 * Units and uncertainty, shown one way everywhere. Every number carries its unit; a value that was
 * not measured reads "not measured", never 0 or a blank; J/token has 3 significant digits and, when
 * there are repetitions, its 95% interval.
 */
export const NOT_MEASURED = "not measured";

const sig3 = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 3, minimumSignificantDigits: 3 });
const sig3Loose = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 3 });
const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

type Maybe = number | null | undefined;

function known(value: Maybe): value is number {
  return value !== null && value !== undefined && Number.isFinite(value);
}

/** 3 significant digits, without exponent notation (0.0000123, 1,230). */
export function significant(value: number): string {
  if (value === 0) return "0";
  return Math.abs(value) >= 1000 ? whole.format(Number(value.toPrecision(3))) : sig3.format(value);
}

export function withUnit(value: Maybe, unit: string, digits: (v: number) => string = significant): string {
  return known(value) ? `${digits(value)} ${unit}` : NOT_MEASURED;
}

export const joulesPerToken = (j: Maybe) => withUnit(j, "J/token");
export const joulesPerRequest = (j: Maybe) => withUnit(j, "J/request");
export const watts = (w: Maybe) => withUnit(w, "W");
export const millis = (ms: Maybe) => withUnit(ms, "ms");
export const tokensPerSecond = (t: Maybe) => withUnit(t, "tok/s");
export const celsius = (c: Maybe) => withUnit(c, "°C");
export const hertz = (hz: Maybe) => withUnit(hz, "Hz", (v) => sig3Loose.format(v));

/** Energy totals: J, kJ or MJ, 3 significant digits. */
export function energy(j: Maybe): string {
  if (!known(j)) return NOT_MEASURED;
  const abs = Math.abs(j);
  if (abs >= 1e6) return `${significant(j / 1e6)} MJ`;
  if (abs >= 1e3) return `${significant(j / 1e3)} kJ`;
  return `${significant(j)} J`;
}

export function seconds(s: Maybe): string {
  if (!known(s)) return NOT_MEASURED;
  if (s >= 3600) return `${(s / 3600).toFixed(1)} h`;
  if (s >= 120) return `${(s / 60).toFixed(1)} min`;
  return `${sig3Loose.format(s)} s`;
}

export function bytes(n: Maybe): string {
  if (!known(n)) return NOT_MEASURED;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${sig3Loose.format(value)} ${units[unit]}`;
}

export function count(n: Maybe, noun: string, plural = `${noun}s`): string {
  if (!known(n)) return NOT_MEASURED;
  return `${whole.format(n)} ${n === 1 ? noun : plural}`;
}

export interface IntervalLike {
  n: number;
  ci95_low: number | null;
  ci95_high: number | null;
}

/** "[0.401, 0.563] 95% CI, n=2", or why there is none. */
export function interval(ci: IntervalLike | null | undefined, unit = ""): string {
  if (ci === null || ci === undefined) return "no interval";
  if (!known(ci.ci95_low) || !known(ci.ci95_high)) return ci.n < 2 ? `n=${ci.n}: no interval` : "no interval";
  const suffix = unit ? ` ${unit}` : "";
  return `[${significant(ci.ci95_low)}, ${significant(ci.ci95_high)}]${suffix} 95% CI, n=${ci.n}`;
}

/** A relative difference: "+34.1%", "−12.0%", "±0%". */
export function signedPercent(fraction: Maybe): string {
  if (!known(fraction)) return NOT_MEASURED;
  if (fraction === 0) return "±0%";
  return `${fraction > 0 ? "+" : "−"}${sig3Loose.format(Math.abs(fraction) * 100)}%`;
}

const dateTime = new Intl.DateTimeFormat("en-GB", {
  year: "numeric",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  timeZone: "UTC",
  timeZoneName: "short",
});

export function timestamp(iso: string | null | undefined): string {
  if (!iso) return "not recorded";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** How long ago a moment was (ms since the epoch), as "12 s" or "3 min 4 s". */
export function since(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}
