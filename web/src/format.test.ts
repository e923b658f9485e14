import { describe, expect, it } from "vitest";
import { energy, interval, joulesPerToken, millis, NOT_MEASURED, significant, signedPercent, tokensPerSecond, watts } from "./format";

describe("formatting", () => {
  it("gives J/token 3 significant digits and its unit", () => {
    expect(joulesPerToken(0.48213)).toBe("0.482 J/token");
    expect(joulesPerToken(1.2)).toBe("1.20 J/token");
    expect(joulesPerToken(0.0000123456)).toBe("0.0000123 J/token");
    expect(joulesPerToken(12345)).toBe("12,300 J/token");
  });

  it("says 'not measured', never 0, for a missing value", () => {
    for (const f of [joulesPerToken, watts, millis, tokensPerSecond, energy]) {
      expect(f(null)).toBe(NOT_MEASURED);
      expect(f(undefined)).toBe(NOT_MEASURED);
      expect(f(Number.NaN)).toBe(NOT_MEASURED);
    }
    expect(watts(0)).toBe("0 W");
  });

  it("scales energy totals", () => {
    expect(energy(512)).toBe("512 J");
    expect(energy(51234)).toBe("51.2 kJ");
    expect(energy(5.1e6)).toBe("5.10 MJ");
  });

  it("writes an interval with its n, or why there is none", () => {
    expect(interval({ n: 3, ci95_low: 0.40123, ci95_high: 0.5634 }, "J/token")).toBe("[0.401, 0.563] J/token 95% CI, n=3");
    expect(interval({ n: 1, ci95_low: null, ci95_high: null })).toBe("n=1: no interval");
    expect(interval(null)).toBe("no interval");
  });

  it("signs a relative difference", () => {
    expect(signedPercent(0.341)).toBe("+34.1%");
    expect(signedPercent(-0.12)).toBe("−12%");
    expect(signedPercent(0)).toBe("±0%");
    expect(signedPercent(null)).toBe(NOT_MEASURED);
  });

  it("never uses exponent notation", () => {
    expect(significant(1e-7)).toBe("0.000000100");
    expect(significant(123456789)).toBe("123,000,000");
  });
});
