import { describe, expect, it } from "vitest";
import { itl, row } from "../test/rows";
import { buildBoard, choices, markPareto, meets, type Point } from "./select";
import { sortRows } from "./sorting";
import { DEFAULT_VIEW } from "./urlState";

const none = DEFAULT_VIEW.constraints;
const all = DEFAULT_VIEW.filters;

// the scenario of tests/test_api_leaderboard.py, so both implementations are held to the same cases
const rows = [
  row({ config_id: "a1", model: "A", energy_per_output_token_j: 0.5, itl_ms: itl(20, 40), output_tokens_per_s: 100 }),
  row({ config_id: "a2", model: "A", energy_per_output_token_j: 0.3, itl_ms: itl(60, 120), output_tokens_per_s: 80 }),
  row({ config_id: "a3", model: "A", energy_per_output_token_j: 0.3, itl_ms: itl(45, 90), output_tokens_per_s: 120 }),
  row({ config_id: "b1", model: "B", energy_per_output_token_j: 0.2, itl_ms: itl(15, 30), avg_power_w: 500 }),
  row({ config_id: "b2", model: "B", energy_per_output_token_j: 0.25, itl_ms: itl(15, 30), avg_power_w: 300 }),
];

const best = (board: ReturnType<typeof buildBoard>) => Object.fromEntries(board.best.map((r) => [r.model, r.config_id]));

describe("constraint selection", () => {
  it("picks the lowest J/token per model, ties to the faster configuration", () => {
    expect(best(buildBoard(rows, all, none))).toEqual({ A: "a3", B: "b1" });
  });

  it("follows the ITL deadline at the chosen percentile", () => {
    expect(best(buildBoard(rows, all, { ...none, maxItlMs: 100 }))).toEqual({ A: "a3", B: "b1" });
    expect(best(buildBoard(rows, all, { ...none, maxItlMs: 50 }))).toEqual({ A: "a1", B: "b1" });
    expect(best(buildBoard(rows, all, { ...none, maxItlMs: 50, itlPercentile: "p50" }))).toEqual({ A: "a3", B: "b1" });
  });

  it("applies the power cap to average power", () => {
    expect(best(buildBoard(rows, all, { ...none, maxPowerW: 400 }))).toEqual({ A: "a3", B: "b2" });
  });

  it("has no winner when nothing meets the constraints, and keeps every point", () => {
    const board = buildBoard(rows, all, { ...none, maxItlMs: 5 });
    expect(board.best).toEqual([]);
    expect(board.unmet).toEqual(["A", "B"]);
    expect(board.points).toHaveLength(5);
    expect(board.points.every((p) => !p.meets)).toBe(true);
  });

  it("never counts a limit as met on an unmeasured value", () => {
    const unmeasured = row({ config_id: "x", model: "X", ttft_ms: { p50: null, p90: null, p95: null, p99: null } });
    expect(meets(unmeasured, none)).toBe(true);
    expect(meets(unmeasured, { ...none, maxTtftMs: 1e9 })).toBe(false);
  });

  it("filters on the row's own fields", () => {
    const mixed = [...rows, row({ config_id: "c1", model: "C", gpu: "NVIDIA A100" })];
    expect(best(buildBoard(mixed, { ...all, gpu: "NVIDIA A100" }, none))).toEqual({ C: "c1" });
    expect(choices(mixed, "gpu")).toEqual(["NVIDIA A100", "NVIDIA H100"]);
  });

  it("breaks an exact tie on the smaller config id", () => {
    const tie = [row({ config_id: "z", model: "T" }), row({ config_id: "m", model: "T" })];
    expect(best(buildBoard(tie, all, none))).toEqual({ T: "m" });
  });
});

describe("Pareto marking", () => {
  it("marks the dominated configuration of a model", () => {
    const board = buildBoard(rows, all, none);
    const pareto = Object.fromEntries(board.points.filter((p) => p.row.model === "A").map((p) => [p.row.config_id, p.pareto]));
    expect(pareto).toEqual({ a1: true, a2: false, a3: true });
  });

  it("matches the definition on random points with many ties (as the Python sweep is tested)", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
    for (let trial = 0; trial < 300; trial += 1) {
      const points: Point[] = Array.from({ length: Math.floor(random() * 25) }, (_, i) => ({
        row: row({ config_id: String(i), model: "m", energy_per_output_token_j: Math.floor(random() * 7) }),
        latencyMs: random() < 0.15 ? null : Math.floor(random() * 7),
        meets: true,
        pareto: false,
      }));
      markPareto(points);
      const dominates = (b: Point, a: Point) =>
        a.latencyMs !== null &&
        b.latencyMs !== null &&
        b.latencyMs <= a.latencyMs &&
        b.row.energy_per_output_token_j <= a.row.energy_per_output_token_j &&
        (b.latencyMs < a.latencyMs || b.row.energy_per_output_token_j < a.row.energy_per_output_token_j);
      for (const a of points) {
        expect(a.pareto).toBe(a.latencyMs !== null && !points.some((b) => dominates(b, a)));
      }
    }
  });
});

describe("sorting", () => {
  it("sorts by a column either way with unmeasured values last", () => {
    const withNull = [...rows, row({ config_id: "n", model: "N", avg_power_w: null })];
    const up = sortRows(withNull, "avg_power_w", false, none).map((r) => r.config_id);
    const down = sortRows(withNull, "avg_power_w", true, none).map((r) => r.config_id);
    expect(up.at(-1)).toBe("n");
    expect(down.at(-1)).toBe("n");
    expect(down[0]).toBe("b1");
  });

  it("sorts latency at the chosen percentile", () => {
    const byItl = sortRows(rows, "itl", false, { ...none, itlPercentile: "p50" }).map((r) => r.config_id);
    expect(byItl.slice(0, 2).sort()).toEqual(["b1", "b2"]);
    expect(byItl.at(-1)).toBe("a2");
  });
});
